package codes

import "strings"

// Normalize returns the storage form of code in system: surrounding blanks
// removed, upper case, and for ICD-10-CM without its dot ("j20.9" becomes
// "J209"). Other systems have no dots; their codes are only trimmed and
// upper-cased.
func Normalize(system System, code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if system == ICD10CM {
		code = strings.ReplaceAll(code, ".", "")
	}
	return code
}

// Display returns the display form of code in system. ICD-10-CM codes
// longer than three characters get a dot after the third ("J209" becomes
// "J20.9"); other systems are shown as stored.
func Display(system System, code string) string {
	code = Normalize(system, code)
	if system == ICD10CM && len(code) > 3 {
		return code[:3] + "." + code[3:]
	}
	return code
}

// CPTCategory classifies a CPT code by its format.
type CPTCategory string

// The CPT categories recognised by format: five digits are Category I; four
// digits followed by F, T, U or M are Category II, Category III,
// Proprietary Laboratory Analyses and Multianalyte Assays with Algorithmic
// Analyses (administrative codes) respectively.
const (
	CPTCategoryI   CPTCategory = "I"
	CPTCategoryII  CPTCategory = "II"
	CPTCategoryIII CPTCategory = "III"
	CPTPLA         CPTCategory = "PLA"
	CPTMAAA        CPTCategory = "MAAA"
)

// CPTFormat reports the category of code if it has the format of a CPT
// code. It checks the format only: whether the code exists needs a CPT file.
func CPTFormat(code string) (CPTCategory, bool) {
	if len(code) != 5 || !digits(code[:4]) {
		return "", false
	}
	switch code[4] {
	case 'F':
		return CPTCategoryII, true
	case 'T':
		return CPTCategoryIII, true
	case 'U':
		return CPTPLA, true
	case 'M':
		return CPTMAAA, true
	}
	if digits(code[4:]) {
		return CPTCategoryI, true
	}
	return "", false
}

// HCPCSFormat reports whether code has the format of a HCPCS Level II code:
// one letter followed by four digits.
func HCPCSFormat(code string) bool {
	return len(code) == 5 && code[0] >= 'A' && code[0] <= 'Z' && digits(code[1:])
}

// ModifierFormat reports whether m has the format of a procedure modifier:
// two upper-case letters or digits.
func ModifierFormat(m string) bool {
	return len(m) == 2 && alnum(m[0]) && alnum(m[1])
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
}

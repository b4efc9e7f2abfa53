package edits

import (
	"slices"
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// Telehealth, as CMS and the CPT code set describe it (the Claim adds
// modifier 95 by the same rules, mapping.BuildClaim through Add95):
//
//   - Place of service 02 (telehealth, patient not at home) and 10
//     (telehealth, patient at home): CMS POS code set; CY2024 PFS final rule
//     (88 FR 78874-78876) and MLN901705 "Telehealth & Remote Patient
//     Monitoring": Medicare telehealth is billed with POS 02 or 10.
//   - Modifier 95, synchronous telemedicine via real-time interactive audio
//     AND video (CPT Appendix P): since CY2024 Medicare wants it only in a
//     few cases (clinician in a hospital, patient at home; outpatient
//     therapy), but many commercial and Medicaid payers still require it, so
//     the Claim adds it to virtual (VR) encounter lines by default.
//   - Modifier 93, synchronous audio-only (CPT Appendix T; CY2022 PFS, and
//     CY2025 PFS for audio-only to the home), FQ (audio-only, RHC/FQHC and
//     opioid treatment programs), FR (supervising practitioner present by
//     audio-video), GT and GQ (interactive, and asynchronous, telehealth:
//     older HCPCS modifiers some payers still use): a line carrying one of
//     these says how it was delivered, and 95 is never added next to it. 95
//     with 93 or FQ is a contradiction (audio-video and audio-only).
//   - CPT 98000-98016 (CPT 2025 telemedicine codes: 98000-98007
//     audio-video, 98008-98015 audio-only, 98016 brief virtual check-in)
//     are telehealth by definition and take no telehealth modifier. Medicare
//     does not pay 98000-98015 (CY2025 PFS); that is for the payer.

// telehealthModifiers mark a service as delivered by telecommunication.
var telehealthModifiers = []string{"95", "93", "FQ", "FR", "GT", "GQ"}

// notAudioVideo are the modifiers that exclude modifier 95 from a line:
// the line is audio-only (93, FQ) or carries its own telehealth modifier
// (FR, GT, GQ).
var notAudioVideo = []string{"93", "FQ", "FR", "GT", "GQ"}

// audioOnly are the modifiers of an audio-only service.
var audioOnly = []string{"93", "FQ"}

// telehealthPOS are the CMS place-of-service codes for telehealth: 02
// (other than the patient's home) and 10 (in the patient's home).
var telehealthPOS = []string{"02", "10"}

// TelehealthModifier95 is the CPT modifier of synchronous audio-video
// telemedicine.
const TelehealthModifier95 = "95"

// TelehealthPOS reports whether pos is a telehealth place of service (02
// or 10).
func TelehealthPOS(pos string) bool { return slices.Contains(telehealthPOS, strings.TrimSpace(pos)) }

// TelehealthByDefinition reports whether code is a CPT telemedicine code
// (98000-98016), which carries no telehealth modifier.
func TelehealthByDefinition(code string) bool {
	code = codes.Normalize(codes.CPT, code)
	return len(code) == 5 && code >= "98000" && code <= "98016"
}

// appendixPAudioVideo are the only codes the Claim appends modifier 95
// to: CPT Appendix P lists them (the star symbol) as services typically
// performed face to face that may be rendered by real-time audio and video,
// and modifier 95 "may only be appended to the services listed in Appendix
// P" (CPT modifier 95 descriptor). Kept to the ranges confirmed on Appendix
// P since its 2017 introduction (AASM "Telemedicine Codes", listing CPT
// 2017 Appendix P): office or other outpatient E/M 99202-99205 and
// 99212-99215 (99211 is not on Appendix P), psychiatric diagnostic
// evaluation 90791-90792, psychotherapy 90832-90838 and family
// psychotherapy 90846-90847. Any other code on a virtual encounter (e-visits
// 99421-99423 and 98970-98972, virtual check-ins G2012 and G2250-G2252,
// remote monitoring 99453-99458, drugs, supplies) gets no 95: the coder
// decides (TELEHEALTH_MODIFIER).
var appendixPAudioVideo = [][2]string{
	{"99202", "99205"},
	{"99212", "99215"},
	{"90791", "90792"},
	{"90832", "90838"},
	{"90846", "90847"},
}

// AppendixPAudioVideo reports whether code is on the Claim's Appendix P
// table (appendixPAudioVideo).
func AppendixPAudioVideo(code string) bool {
	code = codes.Normalize(codes.CPT, code)
	if len(code) != 5 {
		return false
	}
	for _, r := range appendixPAudioVideo {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// Add95 reports whether the Claim appends modifier 95 to line l of an
// encounter of class: only on a virtual (VR) encounter, on a code of the
// Appendix P table (appendixPAudioVideo) that carries no 95,
// 93, FQ, FR, GT or GQ already, and whose place of service is not one the
// coder chose other than 02 or 10 (a coder's POS 11 says the service was
// billed as in person; 95 at POS 11 was the public-health-emergency
// convention CMS ended on 2023-12-31, CY2024 PFS).
func Add95(class string, l Line) bool {
	if class != "VR" || TelehealthByDefinition(l.Code) {
		return false
	}
	if pos := strings.TrimSpace(l.PlaceOfService); pos != "" && !TelehealthPOS(pos) {
		return false
	}
	if !AppendixPAudioVideo(l.Code) {
		return false
	}
	return !hasModifier(l, []string{TelehealthModifier95}) && !hasModifier(l, notAudioVideo)
}

// telehealth checks the telehealth modifiers of line l:
// TELEHEALTH_MODIFIER (warning) for a virtual (VR) encounter line that
// says nowhere how it was delivered; TELEHEALTH_MODIFIER_CONFLICT for 95
// next to an audio-only modifier (error: the line cannot be both) or on a
// code that is telehealth by definition (warning: CPT 98000-98016 take no
// telehealth modifier).
func (k *checker) telehealth(l Line, target string) {
	mod95 := hasModifier(l, []string{TelehealthModifier95})
	switch {
	case mod95 && hasModifier(l, audioOnly):
		k.add(TelehealthModifierConflict, Error, target+".modifiers",
			"%s carries 95 (synchronous audio-video) and 93 or FQ (audio-only): keep the one the documentation supports", l.Code)
	case mod95 && TelehealthByDefinition(l.Code):
		k.add(TelehealthModifierConflict, Warning, target+".modifiers",
			"%s is a CPT telemedicine code (98000-98016), telehealth by definition: it takes no modifier 95", l.Code)
	}
	if k.c.Class != "VR" || TelehealthByDefinition(l.Code) || TelehealthPOS(l.PlaceOfService) || hasModifier(l, telehealthModifiers) {
		return
	}
	if Add95(k.c.Class, l) {
		// The Claim would bill it as audio-video: a person confirms that.
		k.add(TelehealthModifier, Warning, target+".modifiers",
			"%s is on a telehealth encounter with no telehealth modifier or place of service: the Claim adds 95 "+
				"(synchronous audio-video); code 93 or FQ instead if the visit was audio-only", l.Code)
		return
	}
	k.add(TelehealthModifier, Warning, target+".modifiers",
		"%s is on a telehealth encounter without modifier 95, 93, FQ, FR, GT or GQ or place of service 02 or 10 (CMS CY2024 PFS); "+
			"it is not on the Claim's CPT Appendix P list, so the Claim adds no 95: the coder decides", l.Code)
}

package edits

// The edit codes. They are stable: clients and stored work items key on
// them.
const (
	DxUnknown          = "DX_UNKNOWN"
	DxHeader           = "DX_HEADER"
	DxNotValidOnDOS    = "DX_NOT_VALID_ON_DOS"
	DxIsProcedure      = "DX_IS_PROCEDURE"
	PxIsDiagnosis      = "PX_IS_DIAGNOSIS"
	DxPrincipalMissing = "DX_PRINCIPAL_MISSING"
	DxDuplicate        = "DX_DUPLICATE"
	POAMissing         = "POA_MISSING"
	POAInvalid         = "POA_INVALID"
	SexConflict        = "SEX_CONFLICT"
	AgeConflict        = "AGE_CONFLICT"
	LineNoPointer      = "LINE_NO_POINTER"
	LinePointerRange   = "LINE_POINTER_RANGE"
	ProfTooManyDx      = "PROF_TOO_MANY_DX"
	LineTooManyPointer = "LINE_TOO_MANY_POINTERS"
	MUEExceeded        = "MUE_EXCEEDED"
	NCCIPTP            = "NCCI_PTP"
	NCCIPTPNoModifier  = "NCCI_PTP_NO_MODIFIER_ALLOWED"
	TelehealthModifier = "TELEHEALTH_MODIFIER"
	CPTUnverified      = "CPT_UNVERIFIED"
	CPTUnknown         = "CPT_UNKNOWN"
	CPTFormat          = "CPT_FORMAT"
	HCPCSUnknown       = "HCPCS_UNKNOWN"
	PxUnknown          = "PX_UNKNOWN"
	PxHeader           = "PX_HEADER"
	PxNotValidOnDOS    = "PX_NOT_VALID_ON_DOS"
	ModifierInvalid    = "MODIFIER_INVALID"
	UnitsInvalid       = "UNITS_INVALID"
	NoReleaseForDOS    = "NO_RELEASE_FOR_DOS"
	CodeNotYetValid    = "CODE_NOT_YET_VALID"
	CodeDeleted        = "CODE_DELETED"
	NoDischargeDate    = "NO_DISCHARGE_DATE"

	// Claim assembly (issue #17).
	PxNotInpatient             = "PX_NOT_INPATIENT"
	InstTooManyDx              = "INST_TOO_MANY_DX"
	POAExemptIgnored           = "POA_EXEMPT_IGNORED"
	TelehealthModifierConflict = "TELEHEALTH_MODIFIER_CONFLICT"
)

package fhir

// Code-system and identifier-system URIs used by codebridge.
const (
	// SystemICD10CM is ICD-10-CM (US diagnosis codes).
	SystemICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
	// SystemICD10 is WHO ICD-10 (the R4 icd-10 value set's system).
	SystemICD10 = "http://hl7.org/fhir/sid/icd-10"
	// SystemICD10PCS is ICD-10-PCS (US inpatient procedure codes), as named
	// by terminology.hl7.org, US Core and CARIN Blue Button.
	SystemICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
	// SystemICD10PCSLegacy is the ICD-10-PCS URI listed by the R4 spec's
	// terminologies-systems page; accepted on input only.
	SystemICD10PCSLegacy = "http://www.icd10data.com/icd10pcs"
	// SystemCPT is AMA CPT.
	SystemCPT = "http://www.ama-assn.org/go/cpt"
	// SystemHCPCS is HCPCS Level II.
	SystemHCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	// SystemHCPCSHTTP is the http:// spelling of HCPCS, accepted on input.
	SystemHCPCSHTTP = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	// SystemSNOMED is SNOMED CT.
	SystemSNOMED = "http://snomed.info/sct"
	// SystemLOINC is LOINC.
	SystemLOINC = "http://loinc.org"
	// SystemNPI is the US National Provider Identifier.
	SystemNPI = "http://hl7.org/fhir/sid/us-npi"
	// SystemActCode is v3 ActCode, the system of Encounter.class (AMB, IMP, EMER...).
	SystemActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	// SystemClaimType is the R4 claim-type code system (institutional, professional...).
	SystemClaimType = "http://terminology.hl7.org/CodeSystem/claim-type"
	// SystemClaimUse is the R4 claim-use code system (claim, preauthorization, predetermination).
	SystemClaimUse = "http://hl7.org/fhir/claim-use"
	// SystemDiagnosisType is the R4 ex-diagnosistype code system (principal, admitting...).
	SystemDiagnosisType = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
	// SystemDiagnosisOnAdmission is the R4 ex-diagnosis-on-admission code system (y, n, u, w).
	SystemDiagnosisOnAdmission = "http://terminology.hl7.org/CodeSystem/ex-diagnosis-on-admission"
	// SystemProcedureType is the R4 ex-procedure-type code system (primary, secondary).
	SystemProcedureType = "http://terminology.hl7.org/CodeSystem/ex-procedure-type"
	// SystemCareTeamRole is the R4 claimcareteamrole code system (primary, assist, supervisor, other).
	SystemCareTeamRole = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
	// SystemServicePlace is the R4 example place-of-service code system (a CMS POS subset).
	SystemServicePlace = "http://terminology.hl7.org/CodeSystem/ex-serviceplace"
	// SystemCMSPlaceOfService is the full CMS place-of-service code set (CARIN BB).
	SystemCMSPlaceOfService = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
	// SystemPayeeType is the R4 payeetype code system.
	SystemPayeeType = "http://terminology.hl7.org/CodeSystem/payeetype"
	// SystemClaimModifiers is the R4 example claim-modifiers code system.
	SystemClaimModifiers = "http://terminology.hl7.org/CodeSystem/modifiers"
	// SystemRevenueCenter is the R4 ex-revenue-center code system.
	SystemRevenueCenter = "http://terminology.hl7.org/CodeSystem/ex-revenue-center"
	// SystemDiagnosisRole is the diagnosis-role code system of Encounter.diagnosis.use (AD, DD, CC...).
	SystemDiagnosisRole = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
	// SystemParticipantType is v3 ParticipationType, used by Encounter.participant.type (ATND, PPRF...).
	SystemParticipantType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	// SystemConditionClinical is the condition-clinical code system (active, resolved...).
	SystemConditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	// SystemConditionVerification is the condition-ver-status code system (confirmed, refuted...).
	SystemConditionVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	// SystemConditionCategory is the condition-category code system (encounter-diagnosis, problem-list-item).
	SystemConditionCategory = "http://terminology.hl7.org/CodeSystem/condition-category"
	// SystemIdentifierType is the v2-0203 identifier type code system (MR, NPI, MB...).
	SystemIdentifierType = "http://terminology.hl7.org/CodeSystem/v2-0203"
	// SystemCoverageClass is the coverage-class code system (group, plan...).
	SystemCoverageClass = "http://terminology.hl7.org/CodeSystem/coverage-class"
	// SystemLOINCDocumentType is LOINC as used by DocumentReference.type.
	SystemLOINCDocumentType = SystemLOINC
)

// ExtensionChargeItemModifier is the URL of codebridge's ChargeItem
// extension for a procedure modifier (CPT 25, 95...; HCPCS Level II GT,
// LT...), one extension per modifier, in billing order, each with a
// valueCoding (system SystemCPT for digit-first modifiers, SystemHCPCS for
// letter-first ones). R4 ChargeItem has no modifier element and neither the
// core spec nor the HL7 V2-to-FHIR IG (which maps no FT1 segment) defines an
// extension for FT1-26; the IG's PR1-16 map post-coordinates modifiers into
// the code ("99213:95"), which would hide the CPT code from code look-ups,
// so codebridge carries them beside the code instead.
const ExtensionChargeItemModifier = "urn:codebridge:fhir:extension:chargeitem-modifier"

// CanonicalSystem maps accepted input spellings of a code-system URI to the
// one codebridge emits (HCPCS http:// -> https://, legacy ICD-10-PCS ->
// CMS); other URIs are returned unchanged.
func CanonicalSystem(uri string) string {
	switch uri {
	case SystemHCPCSHTTP:
		return SystemHCPCS
	case SystemICD10PCSLegacy:
		return SystemICD10PCS
	}
	return uri
}

// Package fhir is codebridge's only door to FHIR R4 JSON and the only
// importer of google/fhir's jsonformat.
//
// # Parsing
//
// A Parser (NewParser, built once at start) wraps one validating
// jsonformat.Unmarshaller for R4 and one compact Marshaller. Both are safe
// for concurrent use: the Unmarshaller keeps no per-call state (each call
// gets its own error reporter) and the non-analytics Marshaller never writes
// its depth map, so no pool is needed. Parse validates a payload once and
// returns a Resource holding the resourceType, id, the concrete resource
// proto (e.g. *r4encounterpb.Encounter, never the ContainedResource wrapper)
// and the raw bytes as received. The validating parse costs ~8x an
// encoding/json decode, so callers parse each payload exactly once and
// derive everything they index from the proto; Sniff is a cheap pre-parse
// look at resourceType and id for routing.
//
// ParseBundle validates a whole Bundle in one parse and then cuts each
// entry's resource JSON out with a single jsontext token scan (falling back
// to encoding/json for odd but valid input such as escaped member names),
// so each entry carries its own Raw (for storage) and Msg without a second
// validating parse.
//
// # Errors
//
// Failures are *Error with an HTTP Status hint (400: not JSON, not an
// object, no resourceType; 422: valid JSON that is not a valid R4 resource)
// and Issues ready for OperationOutcome. google/fhir's UnmarshalError lives
// in an internal package, so its Path/Details/Diagnostics fields are read by
// reflection; its paths are rewritten into FHIRPath (resource-type segments
// under Bundle.entry.resource and contained are dropped, choice elements
// such as onset.age become onsetAge, unknown elements are appended, e.g.
// "Condition.bogus"). Error() carries only element paths and google/fhir's
// PHI-free Details; anything echoing input goes only to Issue.Diagnostics,
// which must never be logged.
//
// Note: google/fhir is lenient in a few places (an empty code string, a
// mis-cased element name such as "Class"); such input is accepted.
//
// # References
//
// google/fhir stores Reference.reference either as a typed id
// (patient_id{value, history}) or as a uri (absolute URLs, urn:uuid, and
// some references inside Bundle entries). ReferenceString reads either form;
// SetReference writes one and normalises it as the unmarshaller does.
// RewriteReferences walks any message with protoreflect, unpacking the Any
// values used for contained resources, and Resource.RewriteReferences also
// rewrites Raw with RewriteReferencesJSON, a byte-preserving token splice,
// so transaction urn:uuid fullUrls can be resolved in both.
//
// # Serving
//
// SetMeta sets meta.versionId and meta.lastUpdated by editing the stored
// JSON text, not by re-marshalling the proto: what the client sent is kept
// and it costs one token scan. Marshal renders protos built elsewhere
// (mapping builds Claims); OperationOutcome renders issues and always
// re-parses as valid R4. ValidateSchema checks JSON against HL7's official
// R4 JSON Schema (embedded gzipped, compiled per resource type on first use)
// as an independent check on the Claims codebridge emits.
//
// The extraction helpers (EncounterOf, ConditionOf, ProcedureOf,
// ChargeItemOf, PatientOf, CoverageOf, PractitionerOf, OrganizationOf,
// DocumentReferenceOf, Identifiers) return plain Go structs so no proto type
// leaks to mapping.
//
// # Extensions
//
// ExtensionChargeItemModifier (urn:codebridge:fhir:extension:chargeitem-modifier)
// carries one procedure modifier of a ChargeItem as a valueCoding (CPT
// system for 25, 95..., HCPCS for GT, LT...), one extension per modifier in
// billing order: R4 ChargeItem has no modifier element and no published
// extension or V2-to-FHIR map covers FT1-26.
package fhir

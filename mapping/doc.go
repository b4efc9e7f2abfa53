// Package mapping holds codebridge's pure translations: FHIR resources into
// what the store indexes (Prepare), stored resources into a coding chart and
// work-item status and priority (BuildChart), and work-item changes into
// events. It does no I/O: everything it needs is passed in, so each function
// is tested with table and golden tests over FHIR fixtures.
package mapping

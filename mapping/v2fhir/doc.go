// Package v2fhir maps one parsed HL7 v2 message (ADT A01, A03, A04, A08,
// A11, A13 and DFT P03; versions 2.3 to 2.8) to a FHIR R4 transaction
// Bundle of PUT entries with deterministic ids. The wiring runs that Bundle
// through exactly the path of POST /fhir (validating parse, PlanBundle,
// store), so a message lands as the same data pushed as FHIR would:
// storage, versions, no-op re-sends, work items and events are the same by
// construction. The package is pure: no I/O, no clock.
//
// It follows the HL7 V2-to-FHIR implementation guide
// (https://build.fhir.org/ig/HL7/v2-to-fhir/) where the guide speaks: the
// segment maps PID[Patient], PV1[Encounter], DG1[Condition],
// DG1[Encounter], PR1[Procedure] and IN1[Coverage], and the concept maps
// AdministrativeSex, PatientClass[EncounterClass],
// PatientClass[EncounterStatus], DiagnosisType, AddressUse and
// TelecommunicationUseCode. It maps only what codebridge codes and bills
// from, and the patient's demographics; everything else in a message
// (locations, observations, allergies, next of kin, guarantors...) is left
// out.
// The choices where the guide is silent, or where codebridge departs from
// it, are listed below.
//
// # Ids
//
// Every id is "v2-" and 26 base32 characters of SHA-256 over stable keys,
// never the clock or MSH-10, so a re-sent message maps to byte-identical
// resources and the store makes no new version:
//
//   - Organization (sending facility): MSH-4.1
//   - Patient: MSH-4.1 + the PID-3 identifier of type MR (else the first)
//   - Encounter: MSH-4.1 + PV1-19.1 (visit number), so an A01 and its A03
//     update one Encounter
//   - Practitioner: MSH-4.1 + XCN.1 of PV1-7 (the name when no id is sent)
//   - Condition: Encounter + DG1-3 system and code
//   - Procedure: Encounter + PR1-3 system and code + PR1-5
//   - Coverage: Patient + IN1-2.1 + IN1-36 (else IN1-49.1) + payer
//   - Organization (payer): MSH-4.1 + IN1-3.1 (else IN1-4.1)
//   - ChargeItem: Encounter + FT1-2 (transaction id), else FT1-25 (or FT1-7)
//     code + FT1-4 date + FT1-6 type
//
// Two segments that key alike in one message (two DG1 with one code) are
// one resource: the first wins.
//
// Identifier systems come from the HL7 assigning authority (CX.4, XCN.9,
// MSH-4): its universal id as urn:oid (ISO), urn:uuid (UUID) or as is (URI);
// the NPI system http://hl7.org/fhir/sid/us-npi when the authority or the
// identifier type (CX.5, XCN.13) is NPI; otherwise a local system
// urn:codebridge:hl7v2:{namespace or MSH-4}:{identifier type, lower case},
// e.g. urn:codebridge:hl7v2:CBHOSP:mr. The authority's namespace is also the
// identifier's assigner (display), and CX.5 its type (v2-0203).
//
// # Segments
//
// PID → Patient: PID-3 identifiers, PID-5 names (XPN; name type L is
// "official"), PID-7 birth date (date precision), PID-8 gender by table
// 0001 (A and N are "other", as the IG maps them), PID-11 addresses (XAD.1.1
// and XAD.2 lines, city, state, postal code, country; XAD.7 by the IG's
// AddressUse map: H and P home, B and O work, C temp, BA old, BI billing, M
// type postal), PID-13 and PID-14 telecom (XTN.3 Internet/X.400 is email
// from XTN.4, FX fax, BP pager, else phone, CP mobile; the number is XTN.12,
// else +XTN.5 XTN.6 XTN.7 ext. XTN.8, else XTN.1; XTN.2 by the IG's map:
// PRN home, WPN work, PRS mobile; PID-14 without one is work). How a PID
// updates a stored Patient is under "Patient updates".
//
// PV1 → Encounter: PV1-19 identifier (type VN), PV1-2 class by the IG's
// PatientClass map (E EMER, I IMP, O AMB, P PRENC; R, B, C, N, U stay
// v2-0004 codes, as the IG keeps them: codebridge bills those like
// ambulatory visits), PV1-7 attending doctors as ATND participants (each a
// Practitioner with NPI when XCN.9 or XCN.13 says NPI), PV1-44/45 period,
// the sending facility (MSH-4) as serviceProvider. Other PV1 fields are not
// mapped.
//
// DG1 → Condition (category encounter-diagnosis, clinicalStatus active,
// verificationStatus confirmed, or provisional for DG1-6 W working, an
// uncertain diagnosis under ICD-10-CM Official Guidelines IV.H; DG1-21
// "D" is entered-in-error): DG1-3 code, DG1-4 text, DG1-5 onset. Each DG1
// is also an Encounter.diagnosis: DG1-6 (HL7 table 0052) A is use AD (the
// IG's DiagnosisType map), F (final) is DD, which the IG leaves unmapped,
// W (working) has no use; DG1-15 (diagnosis priority) is the rank, and a
// DG1 without it is unranked: segment order is arrival, never a rank. The DG1 of an ADT message are the visit's diagnosis list:
// they replace the prior list. An ADT message without DG1, and a DFT
// (whose DG1 explain its charges), keep the prior list.
//
// PR1 → Procedure (completed): PR1-3 code, PR1-4 text, PR1-5 date.
// Performers (PR1-8/11/12) and PR1-16 modifiers are not mapped: modifiers
// belong on FT1-26.
//
// IN1 → Coverage (active, beneficiary and, for IN1-17 SEL, subscriber the
// Patient) and a payer Organization (IN1-3 id, IN1-4 name). IN1-2 is the
// "plan" class and IN1-8/9 the "group" class: the IG maps IN1-2 to
// Coverage.identifier, but a plan id identifies the plan, not the patient's
// coverage, and claims read the class. IN1-36 (policy number; else IN1-49,
// insured's id) is subscriberId. IN1-17 (table 0063) maps to
// subscriber-relationship (SEL self, SPO spouse, DOM common, CHD/NCH/SCH/FCH
// child, PAR/MTH/FTH parent, anything else other): the IG's Relationship map
// targets v3 RoleCode, which Coverage.relationship does not bind to.
// IN1-12/13 is the period, IN1-22 (else the IN1's position) the order.
//
// FT1 → ChargeItem (the IG has no FT1 map; the core ChargeItem mappings
// name FT1-2 as identifier and the PID/PV1 in proximity as subject and
// context): status billable; code FT1-25 (CPT/HCPCS) followed by FT1-7 (the
// chargemaster item, under a local system urn:codebridge:hl7v2:{MSH-4}:{its
// table} when the alias table does not know it); FT1-26 modifiers as
// fhir.ExtensionChargeItemModifier extensions (letter-first modifiers
// HCPCS, others CPT); FT1-10 quantity; FT1-4 (first component) as
// occurrenceDateTime; FT1-19 diagnoses as reason; context the Encounter,
// subject the Patient. FT1-6 CG (or empty) is a charge, CD a credit whose
// quantity is negative (one unit when FT1-10 is empty) so it nets out the
// charge it reverses; payments, adjustments and other transaction types
// are not charges and are left out. FT1-19 codes do not create Conditions:
// a DFT feed must send DG1 (or the ADT must) for diagnoses to code.
//
// # Coded fields
//
// The coding system of DG1-3, PR1-3, FT1-25 and FT1-19 (component 3) goes
// through Options.Aliases (DefaultAliases: I10, ICD10CM and
// ICD-10-CM are ICD-10-CM, C4 and CPT are CPT, HCPCS...); a name that is a
// URI is taken as is. An unknown system is bad content (103): a code in an
// unknown system cannot be billed. A missing system is bad content (101),
// except DG1-3, which falls back to DG1-2 (the coding method of older
// senders), and the procedure fields PR1-3 and FT1-25, whose code is read
// by its format (CPT, HCPCS Level II, or seven-character ICD-10-PCS). The
// alternate triplet (components 4-6) is added when its system is known.
//
// # Dates
//
// DTM values keep their precision: YYYY, YYYYMM and YYYYMMDD become FHIR
// dates; anything with an hour becomes a dateTime with seconds and the
// offset sent, or Options.Location's offset (UTC by default) when none was.
// Impossible values (month 13, 30 February) are bad content (102).
//
// # Status and out-of-order messages
//
// Prior (nil when the visit is new) is the stored Encounter's status,
// period and diagnoses, looked up by the wiring under the Encounter id
// (EncounterID, IDs) and passed to Map, or to MapStored in Stored. The
// Encounter's status, in this order of precedence:
//
//  1. A cancelled (A11) or entered-in-error visit stays so, whatever
//     arrives later: a cancelled admission is never billed by accident.
//  2. A11 cancels.
//  3. A13 (cancel discharge) reopens: in-progress, without a discharge
//     date (the only way back from finished).
//  4. A03 finishes, with PV1-45 as the end, else the prior end, else EVN-6
//     (event occurred), else EVN-2 (recorded). An A03 arriving before its
//     A01 therefore ends finished with both dates.
//  5. A PV1-45 discharge date finishes any other event (the IG's rule).
//  6. A finished visit stays finished, keeping its discharge date, when an
//     A01, A04, A08 or P03 without PV1-45 arrives late.
//  7. Otherwise the IG's PatientClass map: planned for P, unknown for U,
//     in-progress for the other classes.
//
// The period's start is PV1-44, else the prior start. A PV1-45 before
// PV1-44 is bad content.
//
// # Patient updates
//
// Feeds send thin PIDs: a DFT or an A08 often carries the MRN and name but
// not the address, phones or birth date an A01 sent, and a FHIR push may
// have stored elements no PID carries (contact, maritalStatus,
// extensions). MapStored therefore merges the PID into the stored Patient
// (MergePatient, a pure function) instead of replacing it; Map, without
// a stored Patient, writes the PID's Patient as is. Element by element,
// for name (PID-5), gender (PID-8), birthDate (PID-7) and address (PID-11):
//
//   - the message values it (any repetition maps to something): the
//     message's element replaces the stored one, whole (a new address
//     list replaces the old list; repetitions are not matched up);
//   - the message sends the HL7 explicit null "" and values nothing
//     else there: the element is removed;
//   - the field is empty or absent: the stored element is kept.
//
// Telecom is fed by two PID fields, and identifiers by FHIR pushes as
// well, so these two are merged entry by entry (PIDSent says what the PID
// sent):
//
//   - telecom: PID-13 (home phones, e-mail) and PID-14 (business phones)
//     each replace only the stored entries of their own origin, and only
//     when sent: valued, or "" (which clears that origin alone). The
//     stored Patient does not record where an entry came from, so its
//     ContactPoint.use, as the mapping sets it, tells: work is PID-14's
//     (its default), home, mobile and no use are PID-13's (PRN, PRS, CP,
//     e-mail), whether a message or a FHIR push stored them; temp and old,
//     which no PID field maps to, are kept always.
//     A WPN sent in PID-13 maps to use work: it is added beside the
//     stored business phones (once), not in their place, since PID-14
//     was not sent.
//   - identifier: each PID-3 identifier replaces the stored identifiers
//     of its system (without a system, of its type and assigner); stored
//     identifiers of other systems (a FHIR push's, an authority this
//     message did not send) are kept.
//
// The replacing entries take the place of the first entry they replace
// (at the end when there was none), and kept entries keep their order, so
// merging a message into its own result changes nothing.
//
// Everything else in the stored Patient is kept. Its narrative (text) is
// dropped when the merge changed an element, since it would describe the
// old values; meta's versionId and lastUpdated are the store's. An
// identical re-send merges to the stored content, a no-op for the store.
//
// # Conditional writes
//
// The wiring reads the stored Encounter and Patient, maps, then writes:
// two messages of one visit on two connections (an A01 and its A03) could
// otherwise both read "nothing stored", and the later commit, an
// admission, would overwrite the discharge. MapStored makes those two PUT
// entries conditional on the versions read: request.ifMatch W/"n", or,
// when nothing was stored (or the resource was withdrawn by a DELETE),
// request.ifNoneMatch "*", which the store honours as HTTP does for a PUT:
// create only, fail if the resource exists. The loser's transaction fails
// whole with a Precondition error and writes nothing; the wiring reads
// again and maps again (its status rules then see the discharge and keep
// it). Other entries stay unconditional: Conditions, Procedures, Coverages
// and charges are keyed by what the message says, and two messages that
// both write one of them write what the sender sent.
//
// # Errors
//
// Map answers *Error: Kind Unsupported (the sender gets AR) for a message
// type, trigger event or version not taken, with one detail on MSH-9 or
// MSH-12; Kind Invalid (AE) for bad content, with one detail per problem
// found (segment, occurrence, field, component, HL7 table 0357 code and a
// text naming the field, never its value). Missing keys (MSH-4, PID,
// PID-3, PV1, PV1-19) end the mapping early, since no id can be made.
package v2fhir

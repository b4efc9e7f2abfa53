-- +goose Up
-- Medicare Code Editor (MCE) diagnosis lists (issue #19), one release per
-- MCE version (system 'mce' in code_releases: v43.1 governs discharges
-- 2026-04-01..2026-09-30): which ICD-10-CM codes are on which list
-- (perinatal, pediatric, maternity, adult, manifestation,
-- questionable_admission, unacceptable_principal,
-- unacceptable_principal_alone; codes.MCEList), and the age range of each
-- age list as the release states it.
CREATE TABLE code_mce (
    release_id   bigint NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    list         text   NOT NULL,
    code         text   NOT NULL,   -- storage form: upper case, no dot
    title        text   NOT NULL DEFAULT '',
    PRIMARY KEY (release_id, code, list)
);

CREATE TABLE code_mce_ages (
    release_id   bigint   NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    list         text     NOT NULL,
    min_age      smallint NOT NULL,   -- years, inclusive
    max_age      smallint NOT NULL,
    PRIMARY KEY (release_id, list),
    CHECK (min_age >= 0 AND min_age <= max_age AND max_age <= 124)
);

-- Lists filtered by unit and stage or category, newest first (ListCases):
-- one backward scan per unit (and category) that stops after a page.
CREATE INDEX cases_unit_stage ON cases (responsible_unit, stage, id);
CREATE INDEX cases_unit_category ON cases (responsible_unit, category, id);
CREATE INDEX cases_category ON cases (category, id);

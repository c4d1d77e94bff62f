-- 0012: repeat petitions (重复信访) without a link from each case to every
-- earlier case of its petitioner. A case's petitioner rows carry the case's
-- category, so "the earlier cases of this person in this category" is one
-- index range: a registration links only the previous such case, its cost
-- no longer grows with the petitioner's history, and Case.related_tracking_
-- numbers is read from that index (exactly the earlier cases, as before).
--
-- Rewrites case_petitioners once (one row per petitioner of every case): a
-- few seconds per million rows on the benchmark machine (docs/benchmarks.md).
ALTER TABLE case_petitioners ADD COLUMN category text;
UPDATE case_petitioners cp SET category = c.category FROM cases c WHERE c.id = cp.case_id;
ALTER TABLE case_petitioners ALTER COLUMN category SET NOT NULL;
CREATE INDEX case_petitioners_person_category ON case_petitioners (person_id, category, case_id);

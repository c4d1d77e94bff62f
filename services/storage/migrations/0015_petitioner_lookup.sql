-- A registration's petitioner in one statement (it used to take three or
-- four round trips): matches the person registry by ID number, else by name
-- and phone, registering the person when there is no match, and returns the
-- registry's id, the name the registry keeps (the caller refuses a
-- different name unless the clerk confirmed it is the same person), and the
-- person's previous case of the same category below `p_case` (a repeat
-- petition), if any. Runs inside the registration's transaction: a refusal
-- rolls back the person it registered.
CREATE FUNCTION xf_resolve_petitioner(p_name text, p_idn text, p_phone text, p_address text,
                                      p_category text, p_case bigint,
                                      OUT person_id bigint, OUT registered_name text,
                                      OUT previous_case bigint)
LANGUAGE plpgsql AS $$
BEGIN
  IF p_idn <> '' THEN
    -- No row lock unless something changes: a frequent petitioner's
    -- registrations do not queue behind each other on the person row.
    SELECT id, name INTO person_id, registered_name FROM persons WHERE id_number = p_idn;
    IF NOT FOUND THEN
      INSERT INTO persons (name, id_number, phone, address)
      VALUES (p_name, p_idn, nullif(p_phone, ''), nullif(p_address, ''))
      ON CONFLICT (id_number) DO NOTHING RETURNING id INTO person_id;
      IF person_id IS NULL THEN  -- registered by a concurrent call meanwhile
        SELECT id, name INTO person_id, registered_name FROM persons WHERE id_number = p_idn;
      ELSE
        registered_name := p_name;
      END IF;
    END IF;
  ELSE
    IF p_phone <> '' THEN
      SELECT min(id) INTO person_id FROM persons WHERE name = p_name AND phone = p_phone;
    END IF;
    IF person_id IS NULL THEN
      INSERT INTO persons (name, phone, address)
      VALUES (p_name, nullif(p_phone, ''), nullif(p_address, '')) RETURNING id INTO person_id;
    END IF;
    registered_name := p_name;
  END IF;
  -- One index probe, whatever the petitioner's history.
  SELECT max(case_id) INTO previous_case FROM case_petitioners
   WHERE case_petitioners.person_id = xf_resolve_petitioner.person_id
     AND category = p_category AND case_id < p_case;
END $$;

-- Why was record $id dropped, changed or flagged? Every annotation on it, in the order the stages wrote them.
-- Parameters: id (a record id; `curate sql why_dropped --param id=1ce017b2e3fa0898`).
SELECT a.stage, a.check_name, a.category, a.action, round(a.score, 4) AS score, a.matched_id, a.reason,
       r.id IN (SELECT id FROM clean) AS in_clean
FROM raw r JOIN annotations a USING (id)
WHERE r.id = $id
ORDER BY CASE a.stage WHEN 'dedupe' THEN 0 WHEN 'detect' THEN 1 ELSE 2 END, a.check_name

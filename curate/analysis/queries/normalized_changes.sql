-- Which records did normalisation change, and how? One row per normalize annotation: the field, the text before and after.
SELECT a.id, a.check_name, a.field,
       CASE a.field WHEN 'instruction' THEN r.instruction WHEN 'input' THEN r.input ELSE r.output END AS before,
       a.value AS after, a.reason
FROM annotations a JOIN raw r USING (id)
WHERE a.action = 'normalize'
ORDER BY a.check_name, a.id

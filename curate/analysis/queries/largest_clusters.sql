-- Which near-duplicate clusters are largest? The 20 biggest groups of the clusters table: members, methods, best score and the kept representative.
SELECT c.cluster_id, count(*) AS members, count(*) - 1 AS dropped,
       list(DISTINCT c.method ORDER BY c.method) FILTER (WHERE c.method IS NOT NULL) AS methods,
       round(max(c.score), 4) AS best_score, any_value(k.instruction) AS kept_instruction,
       list(c.id ORDER BY c.id) FILTER (WHERE c.id <> c.representative_id) AS dropped_ids
FROM clusters c LEFT JOIN raw k ON k.id = c.representative_id
GROUP BY c.cluster_id
ORDER BY members DESC, c.cluster_id
LIMIT 20

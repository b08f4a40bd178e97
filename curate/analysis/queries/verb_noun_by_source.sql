-- What do the instructions ask for, per source? The top root verb / direct-object noun pairs of each input source (self-instruct Figure 2), raw and clean counts.
WITH pairs AS (
    SELECT r.source, v.verb, v.noun, count(*) AS raw_count,
           count(*) FILTER (WHERE v.id IN (SELECT id FROM clean)) AS clean_count
    FROM verb_noun v JOIN raw r USING (id)
    WHERE v.verb IS NOT NULL AND v.noun IS NOT NULL
    GROUP BY ALL
)
SELECT source, verb, noun, raw_count, clean_count
FROM pairs
QUALIFY row_number() OVER (PARTITION BY source ORDER BY raw_count DESC, verb, noun) <= 10
ORDER BY source, raw_count DESC, verb, noun

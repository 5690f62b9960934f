-- name: analytics_sentiments
SELECT upper(x.v ->> 'value'), count(*) FROM aircall_call_intelligence i
  CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(i.data -> 'participants') = 'array'
    THEN i.data -> 'participants' ELSE '[]'::jsonb END) AS x(v)
WHERE i.kind = 'sentiment' AND i."timestamp" >= ? AND i."timestamp" < ?
  AND (CAST(? AS TEXT) IS NULL OR i.account = ?) AND jsonb_typeof(x.v) = 'object'
GROUP BY 1

-- Live syncs per collection
SELECT collection_id, count(*) AS syncs
FROM syncs, unnest(collection_ids) AS collection_id
WHERE _sdc_deleted_at IS NULL
GROUP BY collection_id
ORDER BY syncs DESC, collection_id;

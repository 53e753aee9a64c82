-- Live syncs per provider and health status
SELECT provider,
       coalesce(health_status, 'unknown') AS health_status,
       count(*) AS syncs
FROM syncs
WHERE _sdc_deleted_at IS NULL
GROUP BY 1, 2
ORDER BY 1, 2;

-- Since when each live sync unhealthy in its latest observation has been unhealthy
WITH observed AS (
    SELECT sync_id,
           observed_at,
           health_status,
           coalesce(health_status, 'unknown') NOT IN ('healthy', 'ok') AS unhealthy
    FROM sync_health_history
),
latest AS (
    SELECT DISTINCT ON (sync_id) sync_id, observed_at, health_status, unhealthy
    FROM observed
    ORDER BY sync_id, observed_at DESC
),
last_healthy AS (
    SELECT sync_id, max(observed_at) AS observed_at
    FROM observed
    WHERE NOT unhealthy
    GROUP BY sync_id
)
SELECT l.sync_id,
       l.health_status,
       min(o.observed_at) AS unhealthy_since,
       l.observed_at - min(o.observed_at) AS unhealthy_for,
       count(*) AS unhealthy_runs,
       h.observed_at IS NULL AS unhealthy_when_first_seen
FROM latest AS l
LEFT JOIN last_healthy AS h ON h.sync_id = l.sync_id
JOIN observed AS o
  ON o.sync_id = l.sync_id
 AND o.observed_at > coalesce(h.observed_at, '-infinity')
WHERE l.unhealthy
  -- A sync gone from Sequin is not unhealthy now, whatever it was when last seen.
  AND NOT EXISTS (
      SELECT 1 FROM syncs AS s WHERE s.id = l.sync_id AND s._sdc_deleted_at IS NOT NULL
  )
GROUP BY l.sync_id, l.health_status, l.observed_at, h.observed_at
ORDER BY unhealthy_since, l.sync_id;

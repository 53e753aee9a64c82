-- Health incidents: each stretch of unhealthy runs per sync (ended_by null: still going on)
WITH observed AS (
    SELECT sync_id,
           observed_at,
           coalesce(health_status, 'unknown') NOT IN ('healthy', 'ok') AS unhealthy,
           -- Healthy runs so far: constant along a stretch of unhealthy runs.
           count(*) FILTER (
               WHERE coalesce(health_status, 'unknown') IN ('healthy', 'ok')
           ) OVER (PARTITION BY sync_id ORDER BY observed_at) AS stretch
    FROM sync_health_history
),
incidents AS (
    SELECT sync_id, stretch, min(observed_at) AS started_at, count(*) AS unhealthy_runs
    FROM observed
    WHERE unhealthy
    GROUP BY sync_id, stretch
),
ends AS (
    -- The healthy run that ends stretch n is the first run of stretch n + 1.
    SELECT sync_id, stretch - 1 AS stretch, min(observed_at) AS ended_at
    FROM observed
    GROUP BY sync_id, stretch
),
latest AS (
    SELECT sync_id, max(observed_at) AS observed_at
    FROM observed
    GROUP BY sync_id
),
gone AS (
    -- A sync gone from Sequin: the first run that no longer saw it ends its open incident
    -- (the time of the deletion mark if no later run was recorded).
    SELECT l.sync_id,
           coalesce(
               (SELECT min(r.observed_at) FROM observed AS r WHERE r.observed_at > l.observed_at),
               s._sdc_deleted_at
           ) AS gone_at
    FROM latest AS l
    JOIN syncs AS s ON s.id = l.sync_id AND s._sdc_deleted_at IS NOT NULL
)
SELECT i.sync_id,
       i.started_at,
       coalesce(e.ended_at, g.gone_at) AS ended_at,
       CASE
           WHEN e.ended_at IS NOT NULL THEN 'healthy again'
           WHEN g.gone_at IS NOT NULL THEN 'sync gone'
       END AS ended_by,
       coalesce(e.ended_at, g.gone_at, l.observed_at) - i.started_at AS duration,
       i.unhealthy_runs
FROM incidents AS i
JOIN latest AS l ON l.sync_id = i.sync_id
LEFT JOIN ends AS e ON e.sync_id = i.sync_id AND e.stretch = i.stretch
LEFT JOIN gone AS g ON g.sync_id = i.sync_id
ORDER BY i.started_at, i.sync_id;

-- Syncs unhealthy now, with Sequin's reasons and their credential's health
SELECT s.id,
       s.name,
       s.provider,
       s.health_status,
       array_to_string(s.health_notes, ' | ') AS reasons,
       coalesce(c.health_status, s.health_credential_status) AS credential_health,
       array_to_string(c.health_notes, ' | ') AS credential_notes
FROM syncs AS s
LEFT JOIN credentials AS c
       ON c.id = s.credential_id AND c._sdc_deleted_at IS NULL
WHERE s._sdc_deleted_at IS NULL
  AND coalesce(s.health_status, 'unknown') NOT IN ('healthy', 'ok')
ORDER BY s.health_status, s.provider, s.name, s.id;

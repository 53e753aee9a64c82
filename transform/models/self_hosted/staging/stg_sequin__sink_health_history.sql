{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
{%- set types = sequin_column_types(source('sequin_self_hosted', 'sink_health_history')) -%}
select
    sink_id,
    {{ sequin_instant('observed_at', types) }} as observed_at,
    sink_name,
    status,
    health_status,
    health_failing_checks,
    health_errors,
    to_jsonb(health_checks) as health_checks,
    {{ sequin_in_list('health_status', var('sequin_sink_unhealthy_statuses')) }} as is_unhealthy
from {{ source('sequin_self_hosted', 'sink_health_history') }}

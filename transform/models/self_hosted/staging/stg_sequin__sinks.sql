{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
{%- set types = sequin_column_types(source('sequin_self_hosted', 'sinks')) -%}
select
    id,
    name,
    database,
    status,
    actions,
    destination_type,
    {{ sequin_object('destination') }} as destination,
    batch_size,
    max_retry_count,
    load_shedding_policy,
    message_grouping,
    {{ sequin_object('annotations') }} as annotations,
    health_status,
    health_failing_checks,
    health_errors,
    to_jsonb(health_checks) as health_checks,
    {{ sequin_object('health') }} as health,
    {{ sequin_in_list('health_status', var('sequin_sink_unhealthy_statuses')) }} as is_unhealthy,
    {{ sequin_instant('_sdc_extracted_at', types) }} as extracted_at,
    {{ sequin_instant('_sdc_deleted_at', types) }} as deleted_at,
    _sdc_deleted_at is not null as is_deleted
from {{ source('sequin_self_hosted', 'sinks') }}

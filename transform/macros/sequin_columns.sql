{#- How the staging models read target-postgres' columns. -#}

{% macro sequin_column_types(relation) -%}
    {#- {column name: data type} of a loaded table; empty while dbt only parses. -#}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({column.name: column.data_type}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(types) -}}
{%- endmacro %}


{% macro sequin_instant(column, types) -%}
    {#- An exact instant (timestamptz) from a loaded date-time column. target-postgres writes
        `timestamp without time zone` holding UTC (its session runs with PGTZ=UTC), so the
        value is read AT TIME ZONE 'UTC', whatever this session's or the server's zone. A
        column that already is timestamptz (made by another loader, or converted in place by
        an older version of this project) is taken as it is. -#}
    {%- if types.get(column, 'timestamp without time zone') == 'timestamp without time zone' -%}
        ({{ adapter.quote(column) }} at time zone 'UTC')
    {%- else -%}
        {{ adapter.quote(column) }}::timestamptz
    {%- endif -%}
{%- endmacro %}


{% macro sequin_object(column) -%}
    {#- target-postgres stores a null object as the jsonb value 'null', not SQL NULL. -#}
    nullif({{ adapter.quote(column) }}, 'null'::jsonb)
{%- endmacro %}


{% macro sequin_is_unhealthy(column) -%}
    {#- Unhealthy: any health status but the healthy ones (var sequin_healthy_statuses),
        null included. -#}
    coalesce({{ column }}, 'unknown') not in (
        {%- for status in var('sequin_healthy_statuses') -%}
            '{{ status }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    )
{%- endmacro %}


{% macro sequin_in_list(column, values) -%}
    {#- True when `column` is one of `values`; false for null (an unknown value is not in). -#}
    coalesce({{ column }} in (
        {%- for value in values -%}
            '{{ value }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    ), false)
{%- endmacro %}

{#-
    split_part(string_text, delimiter_text, part_number) -> the part_number-th part (1-based), counted from the
    end when negative (-1 = last), '' when there is no such part, NULL for a NULL string, like Postgres 14+.
    MySQL's substring_index alone would return the last part for any number past the end. Matching is
    case-sensitive (as substring_index and replace are).
-#}
{% macro mysql__split_part(string_text, delimiter_text, part_number) -%}
    {%- set n_parts -%}
        ((char_length({{ string_text }}) - char_length(replace({{ string_text }}, {{ delimiter_text }}, '')))
            div char_length({{ delimiter_text }}) + 1)
    {%- endset -%}
    case
        when ({{ part_number }}) > 0 and ({{ part_number }}) <= {{ n_parts }}
            then substring_index(substring_index({{ string_text }}, {{ delimiter_text }}, {{ part_number }}),
                {{ delimiter_text }}, -1)
        when ({{ part_number }}) < 0 and -({{ part_number }}) <= {{ n_parts }}
            then substring_index(substring_index({{ string_text }}, {{ delimiter_text }}, {{ part_number }}),
                {{ delimiter_text }}, 1)
        when {{ string_text }} is not null then ''
    end
{%- endmacro %}

{% macro mariadb__split_part(string_text, delimiter_text, part_number) -%}
    {{ mysql__split_part(string_text, delimiter_text, part_number) }}
{%- endmacro %}

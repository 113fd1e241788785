{#- One review per order: see the stg_olist__order_reviews doc block for the rule and why. -#}
with

source as (

    select * from {{ ref('olist_order_reviews_dataset') }}

),

ranked as (

    select
        order_id,
        review_id,
        review_score,
        nullif(trim(review_comment_title), '') as review_comment_title,
        nullif(trim(review_comment_message), '') as review_comment_message,
        review_creation_date as review_created_at,
        review_answer_timestamp as review_answered_at,
        count(*) over (partition by order_id) as reviews_of_order,
        -- Latest answer first; rows that lost their dates (NULL sorts last in descending order) lose.
        row_number() over (
            partition by order_id
            order by review_answer_timestamp desc, review_creation_date desc, review_id desc
        ) as review_rank
    from source

)

select
    order_id,
    review_id,
    review_score,
    review_comment_title,
    review_comment_message,
    review_created_at,
    review_answered_at,
    reviews_of_order
from ranked
where review_rank = 1
-- in key order: the joins that read this table by key then read its pages in sequence
order by order_id

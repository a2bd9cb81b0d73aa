-- One row per lead, with every step of its path: ad source -> bot subscription -> robot call
-- -> answer -> goal -> order -> payment -> revenue (Leeloo) and revenue (Neiros).
--
-- A lead is a Leeloo person, or a Neiros client (an E.164 phone, else a single deal) that is
-- no Leeloo person's phone. The platforms meet by E.164 phone (phone_e164, normalised by the
-- export with the flows' rules) and by ids where they exist: a Dialog row's person_id (the
-- add_data the call-leads flow sends) and an order's person_id.
-- Reads the lb_* views funnel.py lays over the exported tables (missing ones are empty).
WITH channel_marks AS (
    SELECT person_id,
           MIN(created_at) AS first_contact,
           MIN(utm_source) AS utm_source,
           MIN(messenger) AS messenger
    FROM lb_channels
    GROUP BY person_id
),
first_subscription AS (
    SELECT person_id,
           MIN(tunnel_name) AS tunnel,
           MIN(traffic_source) AS traffic_source
    FROM lb_subscribe_history
    WHERE idx = 0
    GROUP BY person_id
),
person_leads AS (
    SELECT 'leeloo' AS origin,
           'person:' || p.id AS lead_key,
           p.id AS person_id,
           p.phone_e164,
           COALESCE(c.first_contact, p.created_at, p.last_message_time) AS lead_at,
           COALESCE(c.utm_source, s.traffic_source, c.messenger, '(unknown)') AS source,
           COALESCE(s.tunnel, '(no tunnel)') AS tunnel
    FROM lb_people p
    LEFT JOIN channel_marks c ON c.person_id = p.id
    LEFT JOIN first_subscription s ON s.person_id = p.id
),
deal_leads AS (
    SELECT 'neiros' AS origin,
           COALESCE(d.phone_e164, 'deal:' || CAST(d.id AS VARCHAR)) AS lead_key,
           CAST(NULL AS VARCHAR) AS person_id,
           MIN(d.phone_e164) AS phone_e164,
           MIN(COALESCE(d.created_at, CAST(d.date AS TIMESTAMP WITH TIME ZONE))) AS lead_at,
           COALESCE(MIN(d.canal), MIN(d.traffic), '(unknown)') AS source,
           '(no tunnel)' AS tunnel
    FROM lb_deals d
    WHERE d.phone_e164 IS NULL
       OR NOT EXISTS (SELECT 1 FROM lb_people p WHERE p.phone_e164 = d.phone_e164)
    GROUP BY COALESCE(d.phone_e164, 'deal:' || CAST(d.id AS VARCHAR))
),
leads AS (
    SELECT origin, lead_key, person_id, phone_e164, lead_at, source, tunnel FROM person_leads
    UNION ALL
    SELECT origin, lead_key, person_id, phone_e164, lead_at, source, tunnel FROM deal_leads
),
lead_calls AS (
    SELECT l.lead_key,
           MIN(r.campaign_id) AS campaign_id,
           MAX(CASE WHEN r.outcome = 'answered' THEN 1 ELSE 0 END) AS answered,
           MAX(CASE WHEN r.goal THEN 1 ELSE 0 END) AS goal
    FROM leads l
    JOIN lb_dialog_results r
      ON (l.person_id IS NOT NULL AND r.person_id = l.person_id)
      OR (l.phone_e164 IS NOT NULL AND r.phone_e164 = l.phone_e164)
    GROUP BY l.lead_key
),
lead_orders AS (
    SELECT o.person_id,
           COUNT(*) AS orders,
           SUM(CASE WHEN o.status IN ('RESOLVED', 'SUCCESS') THEN 1 ELSE 0 END) AS paid_orders,
           SUM(CASE WHEN o.status IN ('RESOLVED', 'SUCCESS') THEN o.price ELSE 0 END) AS revenue
    FROM lb_orders o
    GROUP BY o.person_id
),
lead_deals AS (
    SELECT l.lead_key,
           COUNT(*) AS deals,
           SUM(COALESCE(d.summ, 0)) AS neiros_revenue
    FROM leads l
    JOIN lb_deals d
      ON (l.phone_e164 IS NOT NULL AND d.phone_e164 = l.phone_e164)
      OR l.lead_key = 'deal:' || CAST(d.id AS VARCHAR)
    GROUP BY l.lead_key
)
SELECT l.origin,
       l.lead_key,
       l.person_id,
       l.phone_e164,
       COALESCE(l.lead_at, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)) AS lead_at,
       l.source,
       l.tunnel,
       COALESCE(CAST(c.campaign_id AS VARCHAR), '(not called)') AS campaign,
       CASE WHEN c.lead_key IS NULL THEN 0 ELSE 1 END AS called,
       COALESCE(c.answered, 0) AS answered,
       COALESCE(c.goal, 0) AS goal,
       CASE WHEN COALESCE(o.orders, 0) > 0 THEN 1 ELSE 0 END AS ordered,
       CASE WHEN COALESCE(o.paid_orders, 0) > 0 THEN 1 ELSE 0 END AS paid,
       COALESCE(o.revenue, 0) AS revenue,
       COALESCE(d.deals, 0) AS deals,
       COALESCE(d.neiros_revenue, 0) AS neiros_revenue
FROM leads l
LEFT JOIN lead_calls c ON c.lead_key = l.lead_key
LEFT JOIN lead_orders o ON o.person_id = l.person_id
LEFT JOIN lead_deals d ON d.lead_key = l.lead_key

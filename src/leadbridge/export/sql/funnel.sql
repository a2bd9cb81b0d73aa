-- The funnel of the leads that arrived in [:date_from, :date_to), grouped by :dimension
-- (source, tunnel, campaign, or one group for all). Conversions are computed by the caller.
SELECT :dimension AS grp,
       COUNT(*) AS leads,
       SUM(CASE WHEN origin = 'leeloo' THEN 1 ELSE 0 END) AS leeloo_people,
       SUM(deals) AS neiros_deals,
       SUM(called) AS called,
       SUM(answered) AS answered,
       SUM(goal) AS goal_reached,
       SUM(ordered) AS ordered,
       SUM(paid) AS paid,
       SUM(revenue) AS revenue,
       SUM(neiros_revenue) AS neiros_revenue
FROM lb_funnel_leads
WHERE lead_at >= :date_from
  AND lead_at < :date_to
GROUP BY :dimension
ORDER BY COUNT(*) DESC, :dimension

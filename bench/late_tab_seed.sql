-- bench/late_tab.py: one store with 100,000 orders; about 7 % open (processing / on hold), nearly all past ship_by.
INSERT INTO catalog_store (name, slug, logo, accent_colour, sign_off, sender_name, support_email, return_address,
  safety_stock_days, created_at, country, time_zone, working_days, opens_at, closes_at, closed_dates,
  sla_ship_within_hours, sla_escalate_after_hours)
VALUES ('Bench SLA', 'bench-sla', '', '#1f6feb', '', 'Bench', '', '', 7, now(), 'GB', 'Europe/London', '12345',
  '08:00', '20:00', '', 24, 8) ON CONFLICT DO NOTHING;
INSERT INTO orders_order (number, email, phone, sms_opt_in, store_id, checkout_id, status, currency, subtotal,
  shipping_total, tax_total, total, shipping_name, shipping_line1, shipping_line2, shipping_city, shipping_postcode,
  shipping_country, shipping_method, is_backordered, hold_reason, cancel_reason, customer_note, placed_at, updated_at,
  ship_by, sla_step, sla_due_at)
SELECT 'NS-B' || lpad(g::text, 8, '0'), 'c' || g || '@example.com', '', false,
  (SELECT id FROM catalog_store WHERE slug = 'bench-sla'), gen_random_uuid(),
  CASE WHEN g % 20 = 0 THEN 'processing' WHEN g % 50 = 1 THEN 'on_hold' WHEN g % 7 = 0 THEN 'cancelled'
       ELSE 'completed' END,
  'GBP', 20, 4, 4, 28, 'Name ' || g, '1 Row', '', 'London', 'N1', 'GB', 'standard', false, '', '', '',
  now() - (g || ' minutes')::interval, now(), now() - (g || ' minutes')::interval + interval '2 days', 0,
  now() - (g || ' minutes')::interval + interval '2 days'
FROM generate_series(1, 100000) g;
VACUUM ANALYZE orders_order;

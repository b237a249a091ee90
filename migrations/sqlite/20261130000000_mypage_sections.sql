-- The mypage is composed of sections, each a view of its own (ADR 7): the one 'mypage'
-- checkpoint becomes one per section, at the position the mypage had reached, so the
-- sections go on from there instead of starting over. Each section starts running: a
-- poison event that stopped the mypage stops again only the section that reads it. No
-- table changes.
INSERT INTO projection_checkpoints (name, kind, transaction_id, position)
SELECT section.name, c.kind, c.transaction_id, c.position
  FROM projection_checkpoints c
 CROSS JOIN (SELECT 'mypageOrders' AS name
             UNION ALL SELECT 'mypageBookings'
             UNION ALL SELECT 'mypageNotifications') section
 WHERE c.name = 'mypage';

DELETE FROM projection_checkpoints WHERE name = 'mypage';

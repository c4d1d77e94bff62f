-- Initial reference data: the organisation tree of a provincial trade union's
-- organs and the union-specific content categories (procedure.md §2).
-- Administrators extend both through AdminService; these rows are a start.

INSERT INTO units (code, name, parent) VALUES
  ('prov',               '省总工会',               NULL),
  ('prov.organs',        '省直机关工会',           'prov'),
  ('prov.organs.office', '省直机关工会信访办公室', 'prov.organs'),
  ('prov.organs.edu',    '省教育厅机关工会',       'prov.organs'),
  ('prov.organs.health', '省卫生健康委机关工会',   'prov.organs'),
  ('prov.organs.transport', '省交通运输厅机关工会', 'prov.organs'),
  ('prov.city-a',        'A市总工会',              'prov'),
  ('prov.city-a.dist-1', 'A市一区总工会',          'prov.city-a');

INSERT INTO categories (code, name, parent) VALUES
  ('wages',                 '劳动报酬',             NULL),
  ('wages.arrears',         '欠薪',                 'wages'),
  ('wages.overtime',        '加班与工时',           'wages'),
  ('contract',              '劳动合同',             NULL),
  ('contract.dismissal',    '解除劳动合同与辞退',   'contract'),
  ('contract.signing',      '劳动合同订立与履行',   'contract'),
  ('insurance',             '社会保险',             NULL),
  ('safety',                '安全生产与工伤',       NULL),
  ('safety.injury',         '工伤认定与待遇',       'safety'),
  ('rights',                '特殊群体权益',         NULL),
  ('rights.women',          '女职工权益',           'rights'),
  ('rights.minors',         '未成年工权益',         'rights'),
  ('democracy',             '民主管理',             NULL),
  ('union',                 '工会组织与工会工作',   NULL),
  ('union.retaliation',     '打击报复工会工作人员', 'union'),
  ('union.funds',           '工会经费',             'union'),
  ('relief',                '困难职工帮扶',         NULL),
  ('legal_aid',             '法律援助',             NULL),
  ('other',                 '其他',                 NULL);

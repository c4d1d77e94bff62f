// Every word the console shows, in Chinese (the default) and English, and the
// names of what the API sends as codes. Labels only: the console decides
// nothing about the procedure. The choice of language is kept in
// localStorage; Element Plus' own texts follow it (App.vue).
import { reactive, ref } from "vue";
import { Channel, DocumentRecipient, Purpose, Role, Stage } from "./gen/xinfang/v1/case_pb";
import type { Timestamp } from "@bufbuild/protobuf/wkt";

const zh = {
  brand: "信访工作平台",
  langSwitch: "English",
  signOut: "退出",
  menu: { desk: "来访登记", queue: "我的待办", board: "督办看板", stats: "统计", report: "形势分析", admin: "系统管理" },
  channel: { [Channel.VISIT]: "来访", [Channel.CALL]: "来电", [Channel.LETTER]: "来信", [Channel.ONLINE]: "网上" } as Record<number, string>,
  purpose: {
    [Purpose.CLAIM]: "求决", [Purpose.SUGGESTION]: "意见建议", [Purpose.APPEAL]: "申诉",
    [Purpose.ACCUSATION]: "揭发控告", [Purpose.OTHER]: "其他",
  } as Record<number, string>,
  stage: {
    [Stage.INTAKE]: "登记受理", [Stage.HANDLING]: "办理", [Stage.DECISION]: "出具意见",
    [Stage.EVALUATION]: "满意度评价", [Stage.REVIEW]: "复查", [Stage.RECHECK]: "复核", [Stage.FINAL]: "终结",
  } as Record<number, string>,
  role: {
    [Role.INTAKE_CLERK]: "登记员", [Role.CASE_OFFICER]: "承办人", [Role.UNIT_HEAD]: "单位负责人",
    [Role.SUPERVISOR]: "督办人员", [Role.ADMINISTRATOR]: "管理员", [Role.AUDITOR]: "审计员", [Role.SERVICE]: "服务账户",
    [Role.PETITIONER]: "信访人",
  } as Record<number, string>,
  timer: {
    intake_notice: "受理告知", handling: "办理期限", evaluation: "评价期限", review_request: "复查申请期",
    review_answer: "复查答复", recheck_request: "复核申请期", recheck_answer: "复核答复",
    notice_reply: "督办回复", objection: "异议期",
  } as Record<string, string>,
  code: {
    invalid: "填写有误", unauthenticated: "请重新登录", denied: "无权执行此操作", notFound: "未找到",
    exists: "已存在", precondition: "当前状态下不能执行", aborted: "已被他人修改，请重新加载",
    exhausted: "操作过于频繁，请稍候", unavailable: "服务器暂时无法连接", other: "出错了",
  },
  colon: "：",
  signin: {
    title: "信访工作平台 · 登录", account: "账号", password: "密码", current: "当前密码", newPassword: "新密码",
    repeat: "再输一次", mismatch: "两次输入的新密码不一致", firstTime: "首次登录：请设置您自己的新密码",
    weak: "新密码不符合要求：", submit: "登录", change: "修改密码并登录",
  },
  desk: {
    title: "来访来信登记 · 信访事项登记", channel: "渠道", receivedAt: "收到时间", now: "现在（登记时）",
    anonymous: "匿名", name: "信访人姓名", coName: (i: number) => `共同信访人${i}`, id: "身份证号", phone: "联系电话",
    address: "住址", addPerson: "增加信访人", email: "电子邮箱",
    emailHint: "可不填；填写后，文书和期限提醒会发到这个邮箱",
    earlier: (n: number) => `此人此前已有 ${n} 件信访，可能为重复信访`,
    people: "来访人数", reps: "代表", repsPlaceholder: "输入代表姓名后回车", callerNumber: "来电号码",
    callRef: "通话编号", postmark: "邮戳日期", sender: "寄信地址", platform: "平台", platformRef: "平台编号",
    purpose: "信访目的", category: "问题类别", pickFromList: "从列表选择", summary: "事项摘要", request: "诉求",
    facts: "事实和理由", location: "问题发生地", complained: "被反映对象", complainedUnit: "被反映单位",
    unitOptional: "本系统内单位（可不选）", register: "登记并出具回执", registered: (t: string) => `已登记：${t}`,
    print: "打印回执", viewCase: "查看案件", another: "登记下一件", fixRed: "请先改正标红的项目",
    required: "必填", pick: "请从列表选择", repsNeeded: "来访超过5人，须推选代表（不超过5名）",
    repsMax: "代表不超过5名",
  },
  check: {
    idFormat: "应为18位：17位数字加1位校验码（数字或X）", birth: "出生日期无效",
    checkDigit: (c: string) => `校验码应为 ${c}，请核对`, phoneChars: "只能包含数字、+、- 和空格",
    phoneLen: "应为5至20位数字",
  },
  queue: {
    title: "我的待办", mine: "只看分给我的", overdueOnly: "只看逾期", escalated: "只看已升级督办",
    allStages: "全部阶段", refresh: "刷新", tracking: "编号", received: "收到", summary: "事项", state: "状态",
    timer: "期限", lastDay: "最后一天", left: "剩余", stage: "阶段", unit: "责任单位", officer: "承办人",
    overdue: (n: number, rung: number) => `逾期 ${n} 天${rung ? `·第${rung}级` : ""}`,
    daysLeft: (n: number) => `${n} 天`, count: (n: number) => `共 ${n} 项`,
  },
  board: {
    title: "督办看板", connecting: "连接中", live: "实时", reconnecting: "重新连接中", unit: "单位",
    stage: "阶段", open: "在办", dueSoon: "即将到期", overdue: "逾期", escalated: "已升级督办",
    notices: "待回复督办通知", overdueItems: "逾期事项", tracking: "编号", timer: "期限", lastDay: "最后一天",
    days: (n: number) => `${n} 天`, rung: "督办级别", rungN: (n: number) => `第${n}级`, owing: "责任单位",
    issue: "发督办通知", cannot: (t: string) => `${t}：现在不能对此案件发督办通知`, noticeTitle: (t: string) => `督办通知 ${t}`,
  },
  // The two evaluation targets and the ratings as the API sends them (codes).
  evaluation: {
    title: "满意度评价（按评价对象）", target: "评价对象", unit: "办理单位", office: "信访工作机构",
    rating: {
      satisfied: "满意", basically_satisfied: "基本满意", dissatisfied: "不满意", lapsed: "逾期未评价",
    } as Record<string, string>,
    participation: "参评率", satisfaction: "满意率", participationSatisfaction: "参评满意率",
    satisfied: "满意", basicallySatisfied: "基本满意", dissatisfied: "不满意", lapsed: "逾期未评价",
  },
  stats: {
    title: "统计", unit: "单位代码（空：全部）", load: "查询", csv: "导出 CSV", received: "收件数",
    onTimeNotice: "按期受理告知率", onTimeCompletion: "按期办结率", repeat: "重复信访率", participation: "参评率",
    byMonth: "按月份", byChannel: "按渠道", byCategory: "按类别", byUnit: "按单位", byStage: "按阶段",
    csvHead: ["指标", "分子", "分母", "比率"], month: "月份", channel: "渠道", category: "类别", unitKey: "单位",
    stageKey: "阶段", file: "信访统计", all: "全部", start: "开始日期", end: "结束日期",
  },
  admin: {
    newAccount: "新建账号 · 设置密码", account: "账号", name: "姓名", role: "角色", unit: "单位", create: "创建",
    created: (n: string) => `已创建 ${n}`, initial: "初始密码", setPassword: "设置密码",
    passwordSet: (a: string) => `已为 ${a} 设置初始密码；首次登录时须修改`, accounts: "账号", status: "状态",
    disabled: "停用", normal: "正常", tokens: "令牌与登录会话", id: "编号", use: "用途", session: "登录会话",
    expires: "到期", revoked: "已吊销", expired: "已过期", valid: "有效", revoke: "吊销", log: "个人信息查阅记录",
    at: "时间", rpc: "接口", case: "案件",
    units: "单位", unitCode: "代码", unitName: "名称", parent: "上级", addChild: "增加下级单位", rename: "改名",
    save: "保存", cancel: "取消", addTop: "增加单位", categories: "问题类别", addCategory: "增加类别",
    active: "使用中", retired: "已停用", retire: "停用", reactivate: "恢复使用", none: "（无）",
    unitSaved: (c: string) => `已保存单位 ${c}`, categorySaved: (c: string) => `已保存类别 ${c}`,
    childOf: (p: string) => `在 ${p} 下增加单位`, renameOf: (c: string) => `修改 ${c} 的名称`,
    newCategory: "新类别",
    email: "电子邮箱", emailOptional: "可不填（接收督办提醒）", emailClearHint: "留空保存即清除",
    setEmail: "设置邮箱", changeEmail: "修改", clearEmail: "清除", noEmail: "（未设置）",
    emailSet: (a: string, e: string) => `已将 ${a} 的电子邮箱设为 ${e}`,
    emailCleared: (a: string) => `已清除 ${a} 的电子邮箱`,
  },
  warn: {
    title: "预警", open: "未处置", all: "全部", refresh: "刷新", severity: "级别", rule: "预警规则", subject: "对象",
    cases: "件数", detail: "说明", raised: "预警时间", state: "状态", none: "暂无预警",
    severityWord: { 3: "红", 2: "黄", 1: "蓝" } as Record<number, string>,
    stateWord: { 1: "已预警", 2: "已确认", 3: "已处置", 4: "已关闭" } as Record<number, string>,
    drawer: (t: string) => `预警 · ${t}`, window: "时段", units: "涉及单位", version: "版本",
    petitions: "关联信访件", tracking: "编号", received: "收到", unit: "登记单位", category: "类别",
    steps: "处置过程", by: "人员", at: "时间", note: "处置说明", notePlaceholder: "已处置时必填：说明采取了哪些措施",
    acknowledge: "确认", handled: "已处置", close: "关闭",
    conflict: "此预警已被他人修改，已重新加载（已填写的内容会保留），请核对后再提交",
    readOnly: "您的角色只能查看预警",
  },
  report: {
    title: "形势分析", unit: "单位（含下级）", allUnits: "全部单位", kind: "期间", month: "月", quarter: "季", year: "年",
    pickMonth: "选择月份", pickYear: "选择年份", load: "查询", print: "打印", csv: "导出 CSV",
    period: (p: string, prev: string, ly: string) => `本期 ${p}，上期 ${prev}，去年同期 ${ly}`,
    asOf: "数据截至", item: "项目", current: "本期", previous: "上期", lastYear: "去年同期", mom: "环比", yoy: "同比",
    received: "收件数", groups: "集体访（5人以上）", byChannel: "按渠道", byCategory: "按问题类别", byUnit: "按登记单位",
    byPurpose: "按信访目的", topEmployers: "反映较多的用人单位", topMatters: "反映较多的问题", employer: "用人单位",
    matter: "问题类别", count: "件数", repeaters: "重复信访人", maskedName: "信访人", petitions: "本期件数",
    rates: "指标", rate: "比率", repeatRate: "重复信访率", onTimeNotice: "按期受理告知率", onTimeCompletion: "按期办结率",
    participation: "参评率", satisfaction: "满意率", backlog: "在办积案（按收件天数）", age: "天数", days: (k: string) => `${k} 天`,
    warnings: "本期预警数", overview: "总体情况", chartCategory: "按问题类别（本期 / 上期 / 去年同期）",
    chartBacklog: "在办积案按收件天数", file: "形势分析", section: "表", none: "无",
  },
  caseP: {
    redacted: "已隐去信访人身份与反映内容", version: "版本", channel: "渠道", purpose: "目的", category: "类别",
    unit: "责任单位", officer: "承办人", registered: "登记", petitioners: "信访人", complained: "被反映对象",
    summary: "事项", request: "诉求", outcome: "处理结果", evaluation: "评价", related: "关联案件", record: "办理记录",
    what: "事项", text: "内容", deadlines: "期限", lastDay: "最后一天", dueAt: "到期时刻", how: "计算方式",
    status: "状态", overdue: "已逾期", rung: (n: number) => `（第${n}级督办）`, suspended: "中止计算",
    running: "进行中", provisional: "（节假日安排未定，暂按估算）", actions: "可执行的操作", history: "办理过程",
    receipt: "回执", reprint: "重新打印回执", routing: "转办", objection: "异议", answer: "答复", waitAnswer: "待答复",
    extension: "延期", applies: (d: number) => `申请 ${d} 日`, approved: "批准", refused: "不批准",
    days: (d: number) => `${d} 日`, told: "告知信访人", waitApproval: "待审批", opinion: "意见", service: "送达",
    hearing: "听证", ongoing: "进行中",
  },
  doc: {
    section: "文书", number: "文号", title: "文书名称", issued: "签发", unit: "签发单位", to: "送达对象",
    open: "查看 / 打印", none: "尚未出具文书", view: "文书", print: "打印", download: "下载 HTML",
    verified: "与签发时的记录一致", mismatch: "与签发时记录的 SHA-256 不一致",
    loading: "正在载入文书…", noNumber: "未指定文书编号（文号）",
    denied: "无权查看此文书",
    notFound: (n: string) => `没有文号为“${n}”的文书`, case: "案件",
    withheld: "已隐去（载有信访人身份）", listError: "文书列表未能载入",
    recipient: { [DocumentRecipient.PETITIONER]: "信访人", [DocumentRecipient.UNIT]: "责任单位" } as Record<number, string>,
  },
  // The notifications made about a case (ListNotifications): kinds, channels and
  // states are codes in the API.
  notify: {
    section: "通知", none: "暂无通知", created: "生成时间", kind: "类型", recipient: "收件人", subject: "主题",
    state: "状态", lastError: "最近一次错误",
    kinds: { petitioner_document: "文书送达通知", petitioner_window: "期限提醒", escalation: "督办提醒" } as Record<string, string>,
    channels: { email: "电子邮件" } as Record<string, string>,
    hidden: "已隐去",
    sent: (t: string) => `已发送（${t}）`,
    pending: (n: number, next: string) => (n ? `待发送（已尝试 ${n} 次，下次 ${next}）` : `待发送（将于 ${next} 发送）`),
    failed: (n: number) => `发送失败（共尝试 ${n} 次）`,
    listError: "通知列表未能载入",
  },
  action: {
    unitCode: "单位代码", account: "账号", note: "备注", conflict: "此案件已被他人修改，请重新加载后再提交（已填写的内容会保留）",
    reload: "重新加载", required: "必填",
  },
  pub: {
    documents: "文书", docHint: "点击查看、打印或保存", back: "返回", docPrint: "打印 / 保存为PDF",
    docSave: "下载文件", docLoading: "正在载入…", docNotFound: "未找到该文书，请重新查询",
    issuedOn: (d: string) => `${d} 出具`,
    title: "信访事项办理情况查询", tracking: "信访编号", code: "查询码", submit: "查询",
    hint: "请输入回执上的编号和查询码", notFound: "编号或查询码不正确，请核对回执",
    tooMany: "查询过于频繁，请稍后再试", received: "收到日期", stage: "办理阶段", unit: "办理单位",
    matter: "事项", dates: "办理期限", lastDay: "最后一天", decisions: "处理结果", served: "送达日期",
    windows: "您现在可以", until: (d: string) => `截止 ${d}`, final: "本事项已办结", again: "重新查询",
    evaluation: "您的评价", provisional: "（暂定）", suspended: "（中止计算）",
    evalTitle: "评价办理结果", evalHint: "请分别对办理单位和信访工作机构作出评价。",
    evalUnit: (name: string) => `办理单位${name ? `（${name}）` : ""}`, evalOffice: "信访工作机构",
    reason: "不满意的理由", reasonPlaceholder: "请写明不满意的理由", pick: "请选择一项",
    reasonRequired: "选择“不满意”时请填写理由", evalSubmit: "提交评价", evalFix: "请先补全标红的项目",
    evalClosed: "现在不能在线评价（评价期已过或已评价），请重新查询",
    evalDone: "评价已提交，谢谢！", evalLine: (unit: string, office: string) => `办理单位 ${unit}；信访工作机构 ${office}`,
  },
};
export type Messages = typeof zh;

const en: Messages = {
  brand: "Petition office",
  langSwitch: "中文",
  signOut: "Sign out",
  menu: { desk: "Reception desk", queue: "My queue", board: "Supervision board", stats: "Statistics", report: "Situation report", admin: "Administration" },
  channel: { [Channel.VISIT]: "visit", [Channel.CALL]: "call", [Channel.LETTER]: "letter", [Channel.ONLINE]: "online" },
  purpose: {
    [Purpose.CLAIM]: "claim", [Purpose.SUGGESTION]: "suggestion", [Purpose.APPEAL]: "appeal",
    [Purpose.ACCUSATION]: "accusation", [Purpose.OTHER]: "other",
  },
  stage: {
    [Stage.INTAKE]: "intake", [Stage.HANDLING]: "handling", [Stage.DECISION]: "decision",
    [Stage.EVALUATION]: "evaluation", [Stage.REVIEW]: "review", [Stage.RECHECK]: "recheck", [Stage.FINAL]: "final",
  },
  role: {
    [Role.INTAKE_CLERK]: "intake clerk", [Role.CASE_OFFICER]: "case officer", [Role.UNIT_HEAD]: "unit head",
    [Role.SUPERVISOR]: "supervisor", [Role.ADMINISTRATOR]: "administrator", [Role.AUDITOR]: "auditor", [Role.SERVICE]: "service",
    [Role.PETITIONER]: "petitioner",
  },
  timer: {
    intake_notice: "intake notice", handling: "handling", evaluation: "evaluation", review_request: "review request",
    review_answer: "review answer", recheck_request: "recheck request", recheck_answer: "recheck answer",
    notice_reply: "notice reply", objection: "objection",
  },
  code: {
    invalid: "Invalid input", unauthenticated: "Please sign in again", denied: "Not allowed", notFound: "Not found",
    exists: "Already exists", precondition: "Not possible in the current state", aborted: "Changed by someone else — reload",
    exhausted: "Too many attempts, please wait", unavailable: "The server cannot be reached", other: "Error",
  },
  colon: ": ",
  signin: {
    title: "Petition office · Sign in", account: "Account", password: "Password", current: "Current password",
    newPassword: "New password", repeat: "Repeat", mismatch: "The two new passwords differ",
    firstTime: "First sign-in: choose your own new password", weak: "The new password is not accepted: ",
    submit: "Sign in", change: "Change password and sign in",
  },
  desk: {
    title: "Reception desk · register a petition", channel: "Channel", receivedAt: "Received at", now: "now (on registration)",
    anonymous: "Anonymous", name: "Petitioner", coName: (i: number) => `Co-petitioner ${i}`, id: "ID number", phone: "Phone",
    address: "Address", addPerson: "Add a petitioner", email: "E-mail",
    emailHint: "optional: the documents and deadline reminders are sent there",
    earlier: (n: number) => `This person has ${n} earlier petition(s): possibly a repeat`,
    people: "People present", reps: "Representatives", repsPlaceholder: "type a name, then Enter", callerNumber: "Caller number",
    callRef: "Call reference", postmark: "Postmark date", sender: "Sender address", platform: "Platform", platformRef: "Platform reference",
    purpose: "Purpose", category: "Category", pickFromList: "pick from the list", summary: "Summary", request: "Request",
    facts: "Facts and reasons", location: "Where it happened", complained: "Complained about", complainedUnit: "Complained-about unit",
    unitOptional: "a unit of this system (optional)", register: "Register and print the receipt", registered: (t: string) => `Registered: ${t}`,
    print: "Print the receipt", viewCase: "Open the case", another: "Register another", fixRed: "Correct the fields marked red first",
    required: "required", pick: "pick one from the list", repsNeeded: "More than 5 people: they must choose representatives (at most 5)",
    repsMax: "at most 5 representatives",
  },
  check: {
    idFormat: "18 characters: 17 digits and a check digit (digit or X)", birth: "invalid date of birth",
    checkDigit: (c: string) => `the check digit should be ${c}`, phoneChars: "only digits, +, - and spaces",
    phoneLen: "5 to 20 digits",
  },
  queue: {
    title: "My queue", mine: "Only cases assigned to me", overdueOnly: "Overdue only", escalated: "Escalated only",
    allStages: "All stages", refresh: "Refresh", tracking: "Tracking number", received: "Received", summary: "Summary", state: "State",
    timer: "Deadline", lastDay: "Last day", left: "Left", stage: "Stage", unit: "Owing unit", officer: "Case officer",
    overdue: (n: number, rung: number) => `overdue ${n} d${rung ? ` · rung ${rung}` : ""}`,
    daysLeft: (n: number) => `${n} d`, count: (n: number) => `${n} item(s)`,
  },
  board: {
    title: "Supervision board", connecting: "connecting", live: "live", reconnecting: "reconnecting", unit: "Unit",
    stage: "Stage", open: "Open", dueSoon: "Due soon", overdue: "Overdue", escalated: "Escalated",
    notices: "Notices awaiting reply", overdueItems: "Overdue", tracking: "Tracking number", timer: "Deadline", lastDay: "Last day",
    days: (n: number) => `${n} d`, rung: "Rung", rungN: (n: number) => `rung ${n}`, owing: "Owing unit",
    issue: "Issue a notice", cannot: (t: string) => `${t}: a notice cannot be issued on this case now`, noticeTitle: (t: string) => `Notice on ${t}`,
  },
  evaluation: {
    title: "Evaluation by target", target: "Target", unit: "Handling body", office: "Petition office",
    rating: {
      satisfied: "satisfied", basically_satisfied: "basically satisfied", dissatisfied: "dissatisfied", lapsed: "not evaluated in time",
    },
    participation: "Participation", satisfaction: "Satisfaction", participationSatisfaction: "Participation × satisfaction",
    satisfied: "Satisfied", basicallySatisfied: "Basically satisfied", dissatisfied: "Dissatisfied", lapsed: "Lapsed",
  },
  stats: {
    title: "Statistics", unit: "unit code (empty: all)", load: "Show", csv: "Export CSV", received: "Received",
    onTimeNotice: "Intake notices on time", onTimeCompletion: "Completed on time", repeat: "Repeat petitions", participation: "Evaluation participation",
    byMonth: "By month", byChannel: "By channel", byCategory: "By category", byUnit: "By unit", byStage: "By stage",
    csvHead: ["figure", "numerator", "denominator", "rate"], month: "month", channel: "channel", category: "category", unitKey: "unit",
    stageKey: "stage", file: "petition-statistics", all: "all", start: "Start date", end: "End date",
  },
  admin: {
    newAccount: "New account · set a password", account: "Account", name: "Name", role: "Role", unit: "Unit", create: "Create",
    created: (n: string) => `Created ${n}`, initial: "Initial password", setPassword: "Set password",
    passwordSet: (a: string) => `Initial password set for ${a}; to be changed at the first sign-in`, accounts: "Accounts", status: "Status",
    disabled: "disabled", normal: "active", tokens: "Tokens and sessions", id: "Id", use: "Use", session: "session",
    expires: "Expires", revoked: "revoked", expired: "expired", valid: "valid", revoke: "Revoke", log: "Access to personal data",
    at: "At", rpc: "Call", case: "Case",
    units: "Units", unitCode: "Code", unitName: "Name", parent: "Parent", addChild: "Add a child unit", rename: "Rename",
    save: "Save", cancel: "Cancel", addTop: "Add a unit", categories: "Categories", addCategory: "Add a category",
    active: "in use", retired: "retired", retire: "Retire", reactivate: "Reactivate", none: "(none)",
    unitSaved: (c: string) => `Unit ${c} saved`, categorySaved: (c: string) => `Category ${c} saved`,
    childOf: (p: string) => `New unit under ${p}`, renameOf: (c: string) => `Rename ${c}`,
    newCategory: "New category",
    email: "E-mail", emailOptional: "optional (for escalation notices)", emailClearHint: "save it empty to clear it",
    setEmail: "Set e-mail", changeEmail: "Change", clearEmail: "Clear", noEmail: "(none)",
    emailSet: (a: string, e: string) => `${a}'s e-mail is now ${e}`,
    emailCleared: (a: string) => `${a}'s e-mail cleared`,
  },
  warn: {
    title: "Warnings", open: "open", all: "all", refresh: "Refresh", severity: "Level", rule: "Rule", subject: "Subject",
    cases: "Petitions", detail: "Detail", raised: "Raised", state: "State", none: "No warnings",
    severityWord: { 3: "red · high", 2: "yellow · medium", 1: "blue · low" },
    stateWord: { 1: "raised", 2: "acknowledged", 3: "handled", 4: "closed" },
    drawer: (t: string) => `Warning · ${t}`, window: "Window", units: "Units", version: "version",
    petitions: "Petitions", tracking: "Tracking number", received: "Received", unit: "Registering unit", category: "Category",
    steps: "Steps", by: "By", at: "At", note: "Note", notePlaceholder: "required for Handled: what was done",
    acknowledge: "Acknowledge", handled: "Handled", close: "Close",
    conflict: "Changed by someone else — reloaded (your input is kept); check, then submit again",
    readOnly: "Your role may only read warnings",
  },
  report: {
    title: "Situation report", unit: "Unit (with units below)", allUnits: "All units", kind: "Period", month: "Month", quarter: "Quarter", year: "Year",
    pickMonth: "Pick a month", pickYear: "Pick a year", load: "Show", print: "Print", csv: "Export CSV",
    period: (p: string, prev: string, ly: string) => `Period ${p}, previous ${prev}, a year before ${ly}`,
    asOf: "As of", item: "Item", current: "This period", previous: "Previous", lastYear: "A year before", mom: "vs previous", yoy: "vs a year before",
    received: "Received", groups: "Group petitions (5 or more)", byChannel: "By channel", byCategory: "By category", byUnit: "By registering unit",
    byPurpose: "By purpose", topEmployers: "Employers most petitioned about", topMatters: "Matters most raised", employer: "Employer",
    matter: "Category", count: "Petitions", repeaters: "Repeat petitioners", maskedName: "Petitioner", petitions: "Petitions in the period",
    rates: "Figure", rate: "Rate", repeatRate: "Repeat petitions", onTimeNotice: "Intake notices on time", onTimeCompletion: "Completed on time",
    participation: "Evaluation participation", satisfaction: "Satisfaction", backlog: "Open cases by days since receipt", age: "Days", days: (k: string) => `${k} d`,
    warnings: "Warnings raised in the period", overview: "Overview", chartCategory: "By category (this period / previous / a year before)",
    chartBacklog: "Open cases by days since receipt", file: "situation-report", section: "Table", none: "none",
  },
  caseP: {
    redacted: "Petitioner identity and content withheld", version: "version", channel: "Channel", purpose: "Purpose", category: "Category",
    unit: "Responsible unit", officer: "Case officer", registered: "Registered", petitioners: "Petitioners", complained: "Complained about",
    summary: "Summary", request: "Request", outcome: "Outcome", evaluation: "Evaluation", related: "Related cases", record: "Record",
    what: "What", text: "Details", deadlines: "Deadlines", lastDay: "Last day", dueAt: "Due at", how: "How computed",
    status: "Status", overdue: "overdue", rung: (n: number) => ` (rung ${n})`, suspended: "suspended",
    running: "running", provisional: " (holiday calendar not yet published: estimated)", actions: "Actions", history: "History",
    receipt: "Receipt", reprint: "Reprint the receipt", routing: "Routed", objection: "Objection", answer: "answer", waitAnswer: "awaiting answer",
    extension: "Extension", applies: (d: number) => `asks ${d} days`, approved: "approved", refused: "refused",
    days: (d: number) => `${d} days`, told: "petitioner told", waitApproval: "awaiting approval", opinion: "Opinion", service: "Served",
    hearing: "Hearing", ongoing: "ongoing",
  },
  doc: {
    section: "Documents", number: "Number", title: "Document", issued: "Issued", unit: "Issuing unit", to: "To",
    open: "View / print", none: "No documents issued yet", view: "Document", print: "Print", download: "Download HTML",
    verified: "matches the record made at issue", mismatch: "does not match the SHA-256 recorded at issue",
    loading: "Loading the document…", noNumber: "No document number given",
    denied: "Not allowed to see this document",
    notFound: (n: string) => `There is no document numbered “${n}”`, case: "Case",
    withheld: "withheld (names the petitioner)", listError: "The documents could not be loaded",
    recipient: { [DocumentRecipient.PETITIONER]: "petitioner", [DocumentRecipient.UNIT]: "responsible unit" },
  },
  notify: {
    section: "Notifications", none: "No notifications", created: "Made", kind: "Kind", recipient: "To", subject: "Subject",
    state: "State", lastError: "Last error",
    kinds: { petitioner_document: "document to the petitioner", petitioner_window: "deadline reminder", escalation: "escalation" },
    channels: { email: "e-mail" },
    hidden: "withheld",
    sent: (t: string) => `sent (${t})`,
    pending: (n: number, next: string) => (n ? `pending (${n} tries, next ${next})` : `pending (to be sent ${next})`),
    failed: (n: number) => `failed (after ${n} tries)`,
    listError: "The notifications could not be loaded",
  },
  action: {
    unitCode: "unit code", account: "account", note: "Note", conflict: "Changed by someone else — reload, then submit again (your input is kept)",
    reload: "Reload", required: "Required",
  },
  pub: {
    documents: "Documents", docHint: "Tap one to read, print or save it", back: "Back", docPrint: "Print / save as PDF",
    docSave: "Download the file", docLoading: "Loading…", docNotFound: "The document was not found: look the case up again",
    issuedOn: (d: string) => `issued ${d}`,
    title: "Petition status", tracking: "Tracking number", code: "Query code", submit: "Look up",
    hint: "Enter the tracking number and the query code printed on your receipt",
    notFound: "The tracking number or the query code is not right: check the receipt",
    tooMany: "Too many lookups: try again in a minute", received: "Received", stage: "Stage", unit: "Handled by",
    matter: "Matter", dates: "Dates", lastDay: "Last day", decisions: "Decisions", served: "Served on",
    windows: "You may now", until: (d: string) => `until ${d}`, final: "This matter is finished", again: "Look up again",
    evaluation: "Your evaluation", provisional: " (provisional)", suspended: " (clock stopped)",
    evalTitle: "Evaluate the result", evalHint: "Rate the handling body and the petition office, each on its own.",
    evalUnit: (name: string) => `Handling body${name ? ` (${name})` : ""}`, evalOffice: "Petition office",
    reason: "Why dissatisfied", reasonPlaceholder: "Say why you are dissatisfied", pick: "Choose one",
    reasonRequired: "A reason is needed with “dissatisfied”", evalSubmit: "Send the evaluation", evalFix: "Complete the fields marked in red first",
    evalClosed: "The evaluation cannot be given online now (the window has closed or it was given): look the case up again",
    evalDone: "Thank you: your evaluation was received.", evalLine: (unit: string, office: string) => `handling body ${unit}; petition office ${office}`,
  },
};

export type Lang = "zh-CN" | "en";
const LANG_KEY = "xinfang.lang";
export const lang = ref<Lang>(localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh-CN");
// The labels of the chosen language; templates read L.desk.title and so on.
export const L = reactive<Messages>({ ...zh });
function apply() {
  Object.assign(L, lang.value === "en" ? en : zh);
  document.documentElement.lang = lang.value;
  document.title = `${L.brand} xinfang`;
}
apply();
export function setLang(l: Lang) {
  lang.value = l;
  localStorage.setItem(LANG_KEY, l);
  apply();
}

function locale() { return lang.value === "en" ? "en-GB" : "zh-CN"; }
export function day(t?: Timestamp): string {
  if (!t) return "—";
  const d = new Date(Number(t.seconds) * 1000);
  return d.toLocaleDateString(locale(), { timeZone: "Asia/Shanghai" });
}
export function time(t?: Timestamp): string {
  if (!t) return "—";
  const d = new Date(Number(t.seconds) * 1000);
  return d.toLocaleString(locale(), { timeZone: "Asia/Shanghai", hour12: false });
}
// Whole days from today (Shanghai) to a YYYY-MM-DD last day; negative: overdue.
export function daysLeft(dueDate: string, now = new Date()): number {
  const today = now.toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  return Math.round((Date.parse(dueDate) - Date.parse(today)) / 86400000);
}

// A rate for people: 0 of 0 is "—", never 0 %.
export function pct(r?: { numerator: number; denominator: number }): string {
  if (!r || r.denominator === 0) return "—";
  const open = lang.value === "en" ? " (" : "（", close = lang.value === "en" ? ")" : "）";
  return `${((100 * r.numerator) / r.denominator).toFixed(1)}%${open}${r.numerator}/${r.denominator}${close}`;
}

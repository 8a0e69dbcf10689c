/* i18n.js — the page's words in Chinese (default) and English, and number and time
 * formats as users of each expect, every time in the node's zone (GET /v1/monitor/whoami "zone_ms",
 * default +08:00), not the browser's. */
"use strict";

const I18N = {
  zh: {
    title: "工业用水在线监测", nav_overview: "总览", nav_enterprises: "企业", nav_balance: "水量平衡",
    nav_alerts: "告警", logout: "退出", login_title: "请输入访问令牌",
    login_text: "监测数据属于商业敏感信息，需要节点配置的访问令牌。", login_button: "登录",
    login_bad: "令牌无效", footer: "数据来自经公证的计量读数（WaterNotary 公证节点）", updated: "更新于",
    overview: "监测总览", enterprises: "企业数", meters: "计量表", online: "在线", offline: "离线",
    revoked: "已注销", never: "从未上报", readings_today: "今日读数", open_alerts: "未处理告警",
    ledger_size: "账本条目", checkpoint: "最新检查点", checkpoint_behind: "未覆盖条目", anchor: "锚定",
    not_anchored: "未锚定", none: "无", recent_alerts: "最新未处理告警", enterprise: "企业",
    enterprise_list: "企业列表", last_seen: "最后上报", meter: "计量表", point: "计量点", tier: "级别",
    source: "水源", parent: "上级表", status: "状态", day: "日期", month: "月份", intake: "取水量",
    recycled: "重复利用水量", discharge: "排水量", reuse_rate: "重复利用率", nonconv_share: "非常规水占比",
    daily: "按日", monthly: "按月", totals: "合计", from: "起", to: "止", apply: "查询",
    plan: "年度计划用水", plan_year: "年度", plan_m3: "计划水量", used: "已用", use_pct: "计划使用率",
    over_pct: "超计划比例", no_plan: "未下达计划", set_plan: "下达计划", production: "产量与单位产品取水量",
    product: "产品", quantity: "产量", per_unit: "单位产品取水量", quota: "定额", quota_ratio: "与定额之比",
    add_production: "填报产量", balance: "水量平衡分析", balance_text: "一级表水量与其二级子表水量之和的差",
    parent_volume: "一级表水量", children_sum: "子表合计", imbalance: "差值", imbalance_pct: "差率",
    flagged: "超限", threshold: "阈值", ok: "正常", alerts: "告警列表", kind: "类型", time: "时间",
    end_time: "结束", evidence: "证据（账本序号）", detail: "详情", ack: "确认", acked_by: "确认人",
    acknowledge: "确认", ack_who: "确认人姓名", ack_note: "处理说明", filter_open: "未处理",
    filter_all: "全部", ongoing: "持续中", ended: "已结束", cleared: "已撤销（迟到数据）", median: "中位数", folded: "另计同类告警", working_nights: "个可比工作日夜间", rest_nights: "个可比休息日夜间", revised: "已按迟到数据修订", meter_view: "计量表详情", readings: "读数",
    last_seq: "最新序号", interval: "上报间隔", flags: "状态标志", seq_gaps: "序号不连续",
    no_gaps: "无（账本中序号连续）", recent_readings: "最近读数", index: "账本序号", seq: "序号",
    values: "测量值", download_bundle: "下载证明包", bundle_range: "证明包时段", channel: "通道",
    volume_per: "水量 (m³)", flow: "流量 (m³/h)", ph: "pH", conductivity: "电导率 (µS/cm)",
    turbidity: "浊度 (NTU)", pressure: "压力 (kPa)", temperature: "水温 (°C)", fluorescence: "荧光 (RFU)",
    loading: "加载中…", error: "出错", forbidden: "无权查看", yes: "是", no: "否", children: "子表",
    trend: "趋势", by_source: "按水源取水量", count: "次数", saved: "已保存", settings: "告警阈值",
    k_silent: "超时未上报", k_sequence_gap: "序号不连续", k_equivocation: "重复签名（同序号不同读数）",
    k_tamper: "防拆报警", k_power_loss: "断电", k_reverse_flow: "反向流", k_quality: "水质超标",
    k_night_flow: "夜间持续流量", k_imbalance: "水量不平衡", k_over_plan: "超计划用水",
    p_intake: "取水", p_treatment: "净水处理", p_supply: "供水", p_use: "用水", p_discharge: "排水",
    p_recycling: "循环回用", s_surface: "地表水", s_groundwater: "地下水", s_tap: "自来水",
    s_reclaimed: "再生水", s_rainwater: "雨水", s_mine_water: "矿井水",
    f_tamper: "防拆", f_reverse_flow: "反向流", f_power_loss: "断电", f_meter_replaced: "换表",
    f_clock_unsync: "时钟未同步", f_substitute: "替代值",
    avg: "平均值", min: "最小值", max: "最大值", anchoring_pending: "等待首次锚定", anchored_at: "已锚定至检查点",
    forbidden_detail: "当前令牌无权查看该数据（仅限本企业或水务部门）", unauthorized_detail: "令牌无效或缺失",
    not_found_detail: "未找到", bad_request_detail: "请求参数有误", zone: "时区", partial_day: "不完整日",
    bucket: "粒度", b_hour: "按小时", b_day: "按日", to_incl: "止（含当日）", name: "名称", number: "表号",
    location: "安装位置", purpose: "用途", county: "区县", park: "园区", label: "标注", set_label: "保存标注",
    label_by: "修改人", label_note: "标注由水务部门维护，不属于签名数据；编号可点击查看", id: "编号",
    all: "全部", acknowledged: "已确认", filter: "筛选", kind_any: "全部类型", note: "处理说明",
    open_entry: "查看账本条目", meter_id: "计量表公钥", enterprise_id: "统一社会信用代码",
    q_flow: "流量", q_volume: "累计水量", q_ph: "pH", q_conductivity: "电导率", q_turbidity: "浊度",
    q_pressure: "压力", q_temperature: "水温", q_fluorescence: "荧光",
    st_open: "未处理", st_ongoing: "持续中", st_acknowledged: "已确认", st_all: "全部", next_page: "下一页", export_csv: "导出 CSV", export_xlsx: "导出 Excel", report: "用水统计月报", plan_by_month: "计划用水逐月执行", used_month: "当月取水量",
    used_cumulative: "年累计取水量", value_added: "万元工业增加值用水量", va_amount: "工业增加值（万元）",
    m3_per_10k: "万元工业增加值用水量", save: "保存", no_quota: "本省无定额表",
  },
  en: {
    title: "Industrial water monitoring", nav_overview: "Overview", nav_enterprises: "Enterprises",
    nav_balance: "Water balance", nav_alerts: "Alerts", logout: "Log out", login_title: "Access token",
    login_text: "Monitoring data is commercially sensitive: enter a token configured on the node.",
    login_button: "Log in", login_bad: "The token is not valid",
    footer: "From notarised meter readings (WaterNotary notary node)", updated: "updated",
    overview: "Overview", enterprises: "Enterprises", meters: "Meters", online: "Online", offline: "Offline",
    revoked: "Revoked", never: "Never reported", readings_today: "Readings today", open_alerts: "Open alerts",
    ledger_size: "Ledger entries", checkpoint: "Latest checkpoint", checkpoint_behind: "Entries not yet covered",
    anchor: "Anchor", not_anchored: "not anchored", none: "none", recent_alerts: "Latest open alerts",
    enterprise: "Enterprise", enterprise_list: "Enterprises", last_seen: "Last seen", meter: "Meter",
    point: "Point", tier: "Tier", source: "Source", parent: "Parent", status: "Status", day: "Day",
    month: "Month", intake: "Intake", recycled: "Recycled", discharge: "Discharge",
    reuse_rate: "Repeated utilisation rate", nonconv_share: "Non-conventional share", daily: "Daily",
    monthly: "Monthly", totals: "Totals", from: "From", to: "To", apply: "Show", plan: "Annual water plan",
    plan_year: "Year", plan_m3: "Plan", used: "Used", use_pct: "Plan used", over_pct: "Over plan",
    no_plan: "No plan set", set_plan: "Set plan", production: "Production and water per unit product",
    product: "Product", quantity: "Output", per_unit: "Water per unit", quota: "Quota",
    quota_ratio: "Ratio to quota", add_production: "Report output", balance: "Water balance analysis",
    balance_text: "Each tier-1 meter against the sum of its tier-2 children", parent_volume: "Tier-1 volume",
    children_sum: "Children total", imbalance: "Imbalance", imbalance_pct: "Imbalance %", flagged: "Flagged",
    threshold: "Threshold", ok: "OK", alerts: "Alerts", kind: "Kind", time: "Time", end_time: "Ended",
    evidence: "Evidence (ledger indices)", detail: "Detail", ack: "Acknowledged", acked_by: "By",
    acknowledge: "Acknowledge", ack_who: "Your name", ack_note: "Note", filter_open: "Open",
    filter_all: "All", ongoing: "ongoing", ended: "ended", cleared: "cleared (late data)", median: "median", folded: "more of this kind counted here:", working_nights: "comparable working-day nights", rest_nights: "comparable weekend nights", revised: "revised by late data", meter_view: "Meter", readings: "Readings",
    last_seq: "Last sequence", interval: "Interval", flags: "Status flags", seq_gaps: "Sequence gaps",
    no_gaps: "None (sequences in the ledger are consecutive)", recent_readings: "Latest readings",
    index: "Ledger index", seq: "Seq", values: "Values", download_bundle: "Download proof bundle",
    bundle_range: "Bundle period", channel: "Channel", volume_per: "Volume (m³)", flow: "Flow (m³/h)",
    ph: "pH", conductivity: "Conductivity (µS/cm)", turbidity: "Turbidity (NTU)", pressure: "Pressure (kPa)",
    temperature: "Temperature (°C)", fluorescence: "Fluorescence (RFU)", loading: "Loading…", error: "Error",
    forbidden: "Not allowed", yes: "yes", no: "no", children: "Children", trend: "Trend",
    by_source: "Intake by source", count: "Count", saved: "Saved", settings: "Alert thresholds",
    k_silent: "Not reporting", k_sequence_gap: "Sequence gap", k_equivocation: "Equivocation",
    k_tamper: "Tamper", k_power_loss: "Power loss", k_reverse_flow: "Reverse flow",
    k_quality: "Water quality out of range", k_night_flow: "Sustained night flow", k_imbalance: "Imbalance",
    k_over_plan: "Over plan", p_intake: "intake", p_treatment: "treatment", p_supply: "supply", p_use: "use",
    p_discharge: "discharge", p_recycling: "recycling", s_surface: "surface water",
    s_groundwater: "groundwater", s_tap: "tap water", s_reclaimed: "reclaimed water", s_rainwater: "rainwater",
    s_mine_water: "mine water", f_tamper: "tamper", f_reverse_flow: "reverse flow", f_power_loss: "power loss",
    f_meter_replaced: "meter replaced", f_clock_unsync: "clock not synchronised", f_substitute: "substitute",
    avg: "average", min: "minimum", max: "maximum", anchoring_pending: "awaiting the first anchor",
    anchored_at: "anchored up to checkpoint", forbidden_detail: "this token may not see these data",
    unauthorized_detail: "missing or invalid token", not_found_detail: "not found",
    bad_request_detail: "malformed request", zone: "Zone", partial_day: "partial day", bucket: "Bucket",
    b_hour: "hourly", b_day: "daily", to_incl: "To (inclusive)", name: "Name", number: "Number",
    location: "Location", purpose: "Purpose", county: "County", park: "Park", label: "Label",
    set_label: "Save label", label_by: "Changed by",
    label_note: "Labels are kept by the bureau, not signed data; the id is one click away", id: "Id",
    all: "All", acknowledged: "Acknowledged", filter: "Filter", kind_any: "any kind", note: "Note",
    open_entry: "ledger entry", meter_id: "Meter key", enterprise_id: "Credit code",
    q_flow: "flow", q_volume: "volume", q_ph: "pH", q_conductivity: "conductivity", q_turbidity: "turbidity",
    q_pressure: "pressure", q_temperature: "temperature", q_fluorescence: "fluorescence",
    st_open: "open", st_ongoing: "ongoing", st_acknowledged: "acknowledged", st_all: "all", next_page: "next page", export_csv: "Export CSV", export_xlsx: "Export Excel", report: "Monthly water statistics", plan_by_month: "Plan against use by month",
    used_month: "intake of the month", used_cumulative: "intake of the year so far",
    value_added: "Water per 10,000 CNY of industrial value added", va_amount: "Value added (10,000 CNY)",
    m3_per_10k: "Water per 10,000 CNY", save: "Save", no_quota: "no quota table for the province",
  },
};

const Fmt = {
  lang: "zh",
  zoneMs: 8 * 3600000, /* the node's zone, set from whoami */
  zone: "+08:00",
  /* the parts of a time in the node's zone */
  parts(t) {
    const d = new Date((typeof t === "number" ? t : Date.parse(t)) + this.zoneMs);
    const p = (n) => String(n).padStart(2, "0");
    return { y: d.getUTCFullYear(), mo: p(d.getUTCMonth() + 1), d: p(d.getUTCDate()), h: p(d.getUTCHours()), mi: p(d.getUTCMinutes()) };
  },
  /* "YYYY-MM-DD" of a time, in the node's zone */
  day(t) { if (!t && t !== 0) return "—"; const p = this.parts(t); return `${p.y}-${p.mo}-${p.d}`; },
  /* UTC ms at which the local day "YYYY-MM-DD" begins */
  dayStart(s) { return Date.parse(s + "T00:00:00Z") - this.zoneMs; },
  locale() { return this.lang === "zh" ? "zh-CN" : "en-GB"; },
  num(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "—";
    return new Intl.NumberFormat(this.locale(), { maximumFractionDigits: digits === undefined ? 3 : digits,
      minimumFractionDigits: 0 }).format(v);
  },
  m3(v) { return v === null || v === undefined ? "—" : this.num(v, 3) + " m³"; },
  pct(v) { return v === null || v === undefined ? "—" : this.num(v, 2) + "%"; },
  time(t) {
    if (!t) return "—";
    const p = this.parts(t);
    return `${p.y}-${p.mo}-${p.d} ${p.h}:${p.mi}`;
  },
  ms(v) {
    if (!v) return "—";
    if (v < 60000) return this.num(v / 1000, 0) + (this.lang === "zh" ? " 秒" : " s");
    const m = Math.round(v / 60000);
    if (m < 120) return this.num(m, 0) + (this.lang === "zh" ? " 分钟" : " min");
    return this.num(v / 3600000, 1) + (this.lang === "zh" ? " 小时" : " h");
  },
};

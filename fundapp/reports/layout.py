"""The statutory layouts (会民非01表, 02表, 03表 of the 民间非营利组织会计制度) as data.

Row names are statutory Chinese text and stay Chinese in every language; `name_en` is an English msgid shown
beside them in the English interface and in the exports. Each line of a statement is one of:

- an account line: `sign` x the sum of the balances (debit positive) of the accounts `codes`, plus those of the
  accounts of type `catch_all` that no line of the statement names (so an account added to the chart later is
  never left out and the statement still balances);
- a total: the sum of other lines (`total_of`, a leading "-" subtracts);
- a heading (no figure).

Codes of the 2004 system not in the default chart (1101 短期投资, 2101 短期借款 ...) are listed too: a
foundation that adds them finds them on the right line.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Line:
    key: str
    name: str
    name_en: object  # a lazy English msgid
    no: int | None = None  # 行次
    codes: tuple[str, ...] = ()
    sign: int = 1
    total_of: tuple[str, ...] = ()
    catch_all: str | None = None
    style: str = "item"  # heading | item | subtotal | total
    indent: int = 1

    @property
    def is_heading(self) -> bool:
        return self.style == "heading"


def heading(key: str, name: str, name_en, indent: int = 0) -> Line:
    return Line(key, name, name_en, style="heading", indent=indent)


def total(key: str, name: str, name_en, no: int | None, *parts: str, style: str = "subtotal", indent: int = 1) -> Line:
    return Line(key, name, name_en, no, total_of=parts, style=style, indent=indent)


ASSET, LIABILITY, NET = 1, -1, -1  # debit-positive balances -> the figure shown

# --- 资产负债表 (会民非01表) ------------------------------------------------------------------------------------

BALANCE_SHEET: tuple[Line, ...] = (
    heading("h_assets", "资产", _l("Assets")),
    heading("h_current", "流动资产：", _l("Current assets"), 1),
    Line("cash", "货币资金", _l("Cash and bank"), 1, ("1001", "1002", "1009")),
    Line("short_inv", "短期投资", _l("Short-term investments"), 2, ("1101", "1102")),
    Line("receivables", "应收款项", _l("Receivables"), 3, ("1111", "1121", "1122", "1131")),
    Line("prepaid", "预付账款", _l("Prepayments"), 4, ("1141",)),
    Line("inventory", "存货", _l("Inventory"), 8, ("1201", "1202")),
    Line("deferred", "待摊费用", _l("Prepaid expenses"), 9, ("1301",)),
    Line("bonds_due", "一年内到期的长期债权投资", _l("Long-term bonds due within a year"), 15),
    Line("other_current", "其他流动资产", _l("Other current assets"), 18, catch_all="asset"),
    total("current_total", "流动资产合计", _l("Total current assets"), 20, "cash", "short_inv", "receivables",
          "prepaid", "inventory", "deferred", "bonds_due", "other_current"),
    heading("h_long_inv", "长期投资：", _l("Long-term investments"), 1),
    Line("equity_inv", "长期股权投资", _l("Long-term equity investments"), 21, ("1401", "1421")),
    Line("bond_inv", "长期债权投资", _l("Long-term bond investments"), 24, ("1402",)),
    total("long_inv_total", "长期投资合计", _l("Total long-term investments"), 30, "equity_inv", "bond_inv"),
    heading("h_fixed", "固定资产：", _l("Fixed assets"), 1),
    Line("fixed_cost", "固定资产原价", _l("Fixed assets at cost"), 31, ("1501",)),
    Line("depreciation", "减：累计折旧", _l("Less: accumulated depreciation"), 32, ("1502",), sign=-1),
    total("fixed_net", "固定资产净值", _l("Fixed assets, net"), 33, "fixed_cost", "-depreciation", style="item"),
    Line("construction", "在建工程", _l("Construction in progress"), 34, ("1505",)),
    Line("heritage", "文物文化资产", _l("Cultural heritage assets"), 35, ("1506",)),
    Line("disposal", "固定资产清理", _l("Fixed assets in disposal"), 38, ("1509",)),
    total("fixed_total", "固定资产合计", _l("Total fixed assets"), 40, "fixed_net", "construction", "heritage",
          "disposal"),
    Line("intangible", "无形资产", _l("Intangible assets"), 41, ("1601",), indent=0),
    Line("held_in_trust", "受托代理资产", _l("Assets held as agent"), 51, ("1701",), indent=0),
    total("assets_total", "资产总计", _l("Total assets"), 60, "current_total", "long_inv_total", "fixed_total",
          "intangible", "held_in_trust", style="total", indent=0),
    heading("h_liabilities", "负债和净资产", _l("Liabilities and net assets")),
    heading("h_current_liab", "流动负债：", _l("Current liabilities"), 1),
    Line("short_loans", "短期借款", _l("Short-term borrowings"), 61, ("2101",), LIABILITY),
    Line("payables", "应付款项", _l("Payables"), 62, ("2201", "2202", "2209"), LIABILITY),
    Line("wages", "应付工资", _l("Wages payable"), 63, ("2204",), LIABILITY),
    Line("taxes", "应交税金", _l("Taxes payable"), 65, ("2206",), LIABILITY),
    Line("advances", "预收账款", _l("Receipts in advance"), 66, ("2203",), LIABILITY),
    Line("accrued", "预提费用", _l("Accrued expenses"), 71, ("2301",), LIABILITY),
    Line("provisions", "预计负债", _l("Provisions"), 72, ("2401",), LIABILITY),
    Line("long_due", "一年内到期的长期负债", _l("Long-term liabilities due within a year"), 74),
    Line("other_current_liab", "其他流动负债", _l("Other current liabilities"), 78, sign=LIABILITY,
         catch_all="liability"),
    total("current_liab_total", "流动负债合计", _l("Total current liabilities"), 80, "short_loans", "payables",
          "wages", "taxes", "advances", "accrued", "provisions", "long_due", "other_current_liab"),
    heading("h_long_liab", "长期负债：", _l("Long-term liabilities"), 1),
    Line("long_loans", "长期借款", _l("Long-term borrowings"), 81, ("2501",), LIABILITY),
    Line("long_payables", "长期应付款", _l("Long-term payables"), 84, ("2502",), LIABILITY),
    Line("other_long_liab", "其他长期负债", _l("Other long-term liabilities"), 88),
    total("long_liab_total", "长期负债合计", _l("Total long-term liabilities"), 90, "long_loans", "long_payables",
          "other_long_liab"),
    Line("agency_liab", "受托代理负债", _l("Liabilities held as agent"), 91, ("2601",), LIABILITY, indent=0),
    total("liabilities_total", "负债合计", _l("Total liabilities"), 100, "current_liab_total", "long_liab_total",
          "agency_liab", indent=0),
    heading("h_net_assets", "净资产：", _l("Net assets"), 1),
    Line("na_unrestricted", "非限定性净资产", _l("Unrestricted net assets"), 101),
    Line("na_restricted", "限定性净资产", _l("Restricted net assets"), 105),
    total("net_assets_total", "净资产合计", _l("Total net assets"), 110, "na_unrestricted", "na_restricted"),
    total("liab_na_total", "负债和净资产总计", _l("Total liabilities and net assets"), 120, "liabilities_total",
          "net_assets_total", style="total", indent=0),
)

# --- 业务活动表 (会民非02表) ------------------------------------------------------------------------------------

ACTIVITIES: tuple[Line, ...] = (
    heading("h_revenue", "一、收入", _l("Revenue")),
    Line("gifts", "其中：捐赠收入", _l("Donations"), 1, ("4101",), NET),
    Line("dues", "会费收入", _l("Membership dues"), 2, ("4201",), NET),
    Line("services", "提供服务收入", _l("Service income"), 3, ("4301",), NET),
    Line("sales", "商品销售收入", _l("Sales of goods"), 4, ("4501",), NET),
    Line("subsidies", "政府补助收入", _l("Government subsidies"), 5, ("4401",), NET),
    Line("investment", "投资收益", _l("Investment income"), 6, ("4601",), NET),
    Line("other_revenue", "其他收入", _l("Other income"), 9, ("4901",), NET, catch_all="revenue"),
    total("revenue_total", "收入合计", _l("Total revenue"), 11, "gifts", "dues", "services", "sales", "subsidies",
          "investment", "other_revenue"),
    heading("h_expenses", "二、费用", _l("Expenses")),
    Line("programme", "（一）业务活动成本", _l("Programme costs"), 12, ("5101",)),
    Line("admin", "（二）管理费用", _l("Administrative expenses"), 21, ("5201",)),
    Line("fundraising", "（三）筹资费用", _l("Fundraising costs"), 24, ("5301",)),
    Line("other_expenses", "（四）其他费用", _l("Other expenses"), 28, ("5401",), catch_all="expense"),
    total("expenses_total", "费用合计", _l("Total expenses"), 35, "programme", "admin", "fundraising",
          "other_expenses"),
    Line("release", "三、限定性净资产转为非限定性净资产", _l("Net assets released from restriction"), 40,
         ("3101", "3102"), NET, catch_all="net_assets", indent=0),
    total("change", "四、净资产变动额（若为净资产减少额，以“-”号填列）", _l("Change in net assets"), 45,
          "revenue_total", "-expenses_total", "release", style="total", indent=0),
)

# --- 现金流量表 (会民非03表) ------------------------------------------------------------------------------------
# `sign` here is the direction: +1 a receipt, -1 a payment (figures are shown positive in their direction).

IN, OUT = 1, -1

CASH_FLOWS: tuple[Line, ...] = (
    heading("h_operating", "一、业务活动产生的现金流量：", _l("Cash flows from operating activities")),
    Line("op_gifts", "接受捐赠收到的现金", _l("Cash received from donations"), 1, sign=IN),
    Line("op_dues", "收取会费收到的现金", _l("Cash received from membership dues"), 2, sign=IN),
    Line("op_services", "提供服务收到的现金", _l("Cash received from services"), 3, sign=IN),
    Line("op_sales", "销售商品收到的现金", _l("Cash received from sales of goods"), 4, sign=IN),
    Line("op_subsidies", "政府补助收到的现金", _l("Cash received from government subsidies"), 5, sign=IN),
    Line("op_other_in", "收到的其他与业务活动有关的现金", _l("Other cash received from operating activities"), 8,
         sign=IN),
    total("op_in", "现金流入小计", _l("Cash inflows"), 13, "op_gifts", "op_dues", "op_services", "op_sales",
          "op_subsidies", "op_other_in"),
    Line("op_grants", "提供捐赠或者资助支付的现金", _l("Cash paid for grants and donations made"), 14, sign=OUT),
    Line("op_staff", "支付给员工以及为员工支付的现金", _l("Cash paid to and for staff"), 15, sign=OUT),
    Line("op_purchases", "购买商品、接受服务支付的现金", _l("Cash paid for goods and services"), 16, sign=OUT),
    Line("op_other_out", "支付的其他与业务活动有关的现金", _l("Other cash paid for operating activities"), 19,
         sign=OUT),
    total("op_out", "现金流出小计", _l("Cash outflows"), 23, "op_grants", "op_staff", "op_purchases",
          "op_other_out"),
    total("op_net", "业务活动产生的现金流量净额", _l("Net cash from operating activities"), 24, "op_in", "-op_out",
          style="total"),
    heading("h_investing", "二、投资活动产生的现金流量：", _l("Cash flows from investing activities")),
    Line("inv_recovered", "收回投资所收到的现金", _l("Cash received from investments recovered"), 25, sign=IN),
    Line("inv_income", "取得投资收益所收到的现金", _l("Cash received from investment income"), 26, sign=IN),
    Line("inv_disposals", "处置固定资产和无形资产所收回的现金",
         _l("Cash received from disposals of fixed and intangible assets"), 27, sign=IN),
    Line("inv_other_in", "收到的其他与投资活动有关的现金", _l("Other cash received from investing activities"), 30,
         sign=IN),
    total("inv_in", "现金流入小计", _l("Cash inflows"), 34, "inv_recovered", "inv_income", "inv_disposals",
          "inv_other_in"),
    Line("inv_fixed", "购建固定资产和无形资产所支付的现金",
         _l("Cash paid for fixed and intangible assets"), 35, sign=OUT),
    Line("inv_paid", "对外投资所支付的现金", _l("Cash paid for investments"), 36, sign=OUT),
    Line("inv_other_out", "支付的其他与投资活动有关的现金", _l("Other cash paid for investing activities"), 39,
         sign=OUT),
    total("inv_out", "现金流出小计", _l("Cash outflows"), 43, "inv_fixed", "inv_paid", "inv_other_out"),
    total("inv_net", "投资活动产生的现金流量净额", _l("Net cash from investing activities"), 44, "inv_in",
          "-inv_out", style="total"),
    heading("h_financing", "三、筹资活动产生的现金流量：", _l("Cash flows from financing activities")),
    Line("fin_borrowed", "借款所收到的现金", _l("Cash received from borrowings"), 45, sign=IN),
    Line("fin_other_in", "收到的其他与筹资活动有关的现金", _l("Other cash received from financing activities"), 48,
         sign=IN),
    total("fin_in", "现金流入小计", _l("Cash inflows"), 50, "fin_borrowed", "fin_other_in"),
    Line("fin_repaid", "偿还借款所支付的现金", _l("Cash paid to repay borrowings"), 51, sign=OUT),
    Line("fin_interest", "偿付利息所支付的现金", _l("Cash paid for interest"), 52, sign=OUT),
    Line("fin_other_out", "支付的其他与筹资活动有关的现金", _l("Other cash paid for financing activities"), 55,
         sign=OUT),
    total("fin_out", "现金流出小计", _l("Cash outflows"), 58, "fin_repaid", "fin_interest", "fin_other_out"),
    total("fin_net", "筹资活动产生的现金流量净额", _l("Net cash from financing activities"), 59, "fin_in",
          "-fin_out", style="total"),
    Line("fx", "四、汇率变动对现金的影响额", _l("Effect of exchange rate changes on cash"), 60, indent=0),
    total("net_change", "五、现金及现金等价物净增加额", _l("Net increase in cash and cash equivalents"), 61,
          "op_net", "inv_net", "fin_net", "fx", style="total", indent=0),
    Line("cash_opening", "加：期初现金及现金等价物余额", _l("Add: cash and cash equivalents at the start"),
         indent=0),
    total("cash_closing", "六、期末现金及现金等价物余额", _l("Cash and cash equivalents at the end"), None,
          "net_change", "cash_opening", style="total", indent=0),
)

# The cash accounts whose lines the cash flow statement reads.
CASH_CODES = ("1001", "1002", "1009")

# Counter-account code -> (line for its receipts, line for its payments). When both are the same line the
# account's receipts and payments are netted on it (a refunded or reversed gift lowers 接受捐赠收到的现金);
# when they differ, each direction goes to its own line (buying and selling investments).
CASH_FLOW_ACCOUNTS: dict[str, tuple[str, str]] = {
    "4101": ("op_gifts", "op_gifts"),
    "1122": ("op_gifts", "op_gifts"),  # pledges receivable
    "4201": ("op_dues", "op_dues"),
    "4301": ("op_services", "op_services"),
    "1121": ("op_services", "op_services"),  # enterprise shares and service fees receivable
    "2203": ("op_services", "op_services"),  # receipts in advance
    "4501": ("op_sales", "op_sales"),
    "4401": ("op_subsidies", "op_subsidies"),
    "4901": ("op_other_in", "op_other_in"),
    "5101": ("op_grants", "op_grants"),
    "2209": ("op_grants", "op_grants"),  # grants awarded, paid later
    "5201": ("op_staff", "op_staff"),  # administration: mostly staff pay
    "2204": ("op_staff", "op_staff"),
    "1201": ("op_purchases", "op_purchases"),
    "2202": ("op_purchases", "op_purchases"),
    "1141": ("op_purchases", "op_purchases"),
    "5301": ("op_other_out", "op_other_out"),
    "5401": ("op_other_out", "op_other_out"),
    "1101": ("inv_recovered", "inv_paid"),
    "1401": ("inv_recovered", "inv_paid"),
    "1402": ("inv_recovered", "inv_paid"),
    "4601": ("inv_income", "inv_income"),
    "1501": ("inv_disposals", "inv_fixed"),
    "1505": ("inv_disposals", "inv_fixed"),
    "1506": ("inv_disposals", "inv_fixed"),
    "1509": ("inv_disposals", "inv_fixed"),
    "1601": ("inv_disposals", "inv_fixed"),
    "2101": ("fin_borrowed", "fin_repaid"),
    "2501": ("fin_borrowed", "fin_repaid"),
}
# Accounts not listed above, by type.
CASH_FLOW_DEFAULTS: dict[str, tuple[str, str]] = {
    "revenue": ("op_other_in", "op_other_in"),
    "expense": ("op_other_out", "op_other_out"),
    "net_assets": ("op_other_in", "op_other_in"),
    "asset": ("op_other_in", "op_other_out"),
    "liability": ("op_other_in", "op_other_out"),
}

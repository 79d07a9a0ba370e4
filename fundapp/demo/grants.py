"""The demo foundation's grant-making (`flask demo load`, after the books): organisations, two programmes,
applications at every stage, reviews, two board agendas, awards, tranche payments, reports and a close-out.

Everything goes through the grants services, as the pages would do it, so every rule holds (budgets within what
the funds can spend, frozen versions, votes, quorum, maker-checker, reports before tranches) and the ledger
verifies. The story runs in the months the demo leaves open: from the first day of last month to today
(`Calendar`); entries are never dated in a closed period nor in the future (only plans are: the open call's closing
date, the open agenda's meeting and deadline, the last tranche's due date, projects not yet started).

The district's civil affairs bureau first transfers 200,000 for the services it buys (Dr 1002 / Cr 4401 in the
为老服务专项基金), so that fund can cover the purchase programme's budget. The board has four members: on the
decided agenda one declares a conflict and one does not vote, and staff close the vote on the meeting day.

    政府购买服务 programme (为老服务专项基金, closed)        公益创投 call (公益创投项目基金, open)
      阳光为老 助餐探访 — board: approved (1 recusal)         绿色家园 — on the open agenda, 2 of 4 votes in
        tranche 1 paid (second approver), progress report      青少年成长驿站 — recommended (3 reviews)
        accepted, tranche 2 waiting for the second approver  邻里互助 — in review (2 reviews in, 1 to do)
      邻里互助 防诈骗 — staff: approved, paid, final report     阳光为老 — revision requested
        (returned once, then accepted), money returned, closed 同心助残 — submitted; 颐康 — draft
      颐康 适老化改造 — board: rejected
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.auth.models import User
from fundapp.auth.services import create_user, find_user_by_email
from fundapp.db import utcnow
from fundapp.demo.data import demo_email
from fundapp.demo.files import pdf_document, png_picture
from fundapp.donations.donors import credit_code_valid
from fundapp.grants import applications as apps
from fundapp.grants import board, review
from fundapp.grants.attachments import save_grant_attachment
from fundapp.grants.awards import CloseInput, TrancheSpec, close_award, set_schedule
from fundapp.grants.models import (
    Application,
    Award,
    Organisation,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    ReportKind,
)
from fundapp.grants.organisations import create_own_organisation, link_member, save_organisation
from fundapp.grants.payments import PaymentInput, approve_payment, request_payment
from fundapp.grants.programmes import CriterionInput, create_programme, set_programme_status
from fundapp.grants.reports import ReportInput, accept_report, file_report, return_report
from fundapp.grants.review import ScoreInput
from fundapp.ledger.models import Account, Fund
from fundapp.ledger.services import LineSpec, post_entry
from fundapp.uploads import Upload

# key (email local part), role, name: users the grants need besides the demo's one per role
GRANT_USERS: tuple[tuple[str, str, str], ...] = (
    ("finance2", "finance", "财务负责人 孙敏"),
    ("board2", "board", "理事 刘淑芬"),
    ("board3", "board", "理事 陈志强"),
    ("board4", "board", "理事 何丽萍"),
    ("reviewer2", "reviewer", "评审专家 黄海涛"),
    ("reviewer3", "reviewer", "评审专家 林晓雯"),
    ("applicant2", "applicant", "申请人 周建华（邻里互助协会）"),
)

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
REGION = "330106"  # the district's administrative division code


def organisation_code(body: str) -> str:
    """A 9-character organisation code (GB 11714): 8 characters and their check character."""
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(kind: str, serial: str) -> str:
    """A unified social credit code of a social organisation registered by civil affairs (5), `kind` 1 社会团体,
    2 民办非企业单位 (社会服务机构), 3 基金会; `serial` 6 digits. The check character follows GB 32100."""
    first17 = f"5{kind}{REGION}{organisation_code('MJ' + serial)}"
    total = sum(_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    code = first17 + _ALPHABET[(31 - total % 31) % 31]
    assert credit_code_valid(code), code
    return code


# key, kind (1 社团 / 2 民非), serial, name, type, community, contact, phone, email, address, bank, account
ORGANISATIONS: tuple[tuple[str, ...], ...] = (
    ("ygwl", "2", "128563", "阳光为老服务中心", "民办非企业单位（社会服务机构）", "阳光社区", "刘芳", "13857120461",
     "ygwl@example.cn", "某区阳光街道幸福路18号", "中国工商银行某区支行", "1202021809900123456"),
    ("llhz", "1", "093271", "邻里互助协会", "社会团体", "和平社区", "周建华", "13957136622", "llhz@example.cn",
     "某区和平街道和平里社区服务中心二楼", "中国农业银行某区和平支行", "19033101040012345"),
    ("qsn", "2", "207845", "青少年成长驿站", "民办非企业单位（社会服务机构）", "和平社区", "王晓燕", "13706815533",
     "qsn@example.cn", "某区和平街道学府路66号", "中国建设银行某区支行", "33050161723500001234"),
    ("lsjy", "1", "114590", "绿色家园环保社", "社会团体", "阳光社区", "张立新", "13588062714", "lsjy@example.cn",
     "某区阳光街道阳光花园12幢架空层", "杭州银行某区支行", "3301040160012345678"),
    ("txzc", "2", "316208", "同心助残服务中心", "民办非企业单位（社会服务机构）", "全区", "李敏", "13805718890",
     "txzc@example.cn", "某区文化路200号残疾人之家", "中国银行某区支行", "367758123456"),
    ("yksg", "2", "258731", "颐康社工服务中心", "民办非企业单位（社会服务机构）", "和平社区", "陈颐", "13967190025",
     "yksg@example.cn", "某区和平街道康乐路9号", "交通银行某区支行", "331066180018012345678"),
)


@dataclass(frozen=True)
class Calendar:
    """The days the story happens on: `day(f)` is fraction f of the way from the first day of last month (the
    first day the demo leaves open) to today."""

    start: dt.date
    today: dt.date

    @classmethod
    def for_today(cls, today: dt.date) -> Calendar:
        index = today.year * 12 + today.month - 2
        return cls(dt.date(index // 12, index % 12 + 1, 1), today)

    def day(self, fraction: float) -> dt.date:
        return self.start + dt.timedelta(days=int((self.today - self.start).days * fraction))


@dataclass(frozen=True)
class Proposal:
    key: str
    programme: str
    organisation: str
    title: str
    community: str
    summary: str
    objectives: str
    beneficiaries: str
    count: int
    lines: tuple[tuple[str, str, str], ...]  # category, item, amount
    requested: str | None = None  # None: the lines' total


PROPOSALS: tuple[Proposal, ...] = (
    Proposal("A", "purchase", "ygwl", "阳光社区高龄独居老人居家探访与助餐服务", "阳光社区",
             "为阳光社区80岁以上高龄、独居老人提供每周上门探访、社区长者食堂助餐和应急呼叫服务，建立“一老一档”服务台账。",
             "1. 每周探访高龄独居老人不少于1次；2. 年助餐约9,000人次；3. 为60户老人安装应急呼叫设备；"
             "4. 培育低龄老人志愿者队伍20人。",
             "阳光社区80岁以上高龄、独居、空巢老人约180人。", 180,
             (("人员", "社工及助老员服务补贴（2名×12个月）", "57600.00"),
              ("活动", "长者助餐补贴（每餐5元，约9,000人次）", "45000.00"),
              ("物资", "探访慰问物资及应急呼叫设备", "10200.00"),
              ("管理", "项目督导与第三方评估", "7200.00"))),
    Proposal("B", "purchase", "llhz", "长者防诈骗宣传进社区（6场）", "和平社区",
             "联合社区民警和志愿者，在和平社区6个小区开展防诈骗主题讲座和情景剧，帮助老年人识别常见诈骗手法。",
             "1. 开展宣传活动6场，覆盖老年居民600人次；2. 发放防诈骗宣传折页2,000份；3. 建立楼栋防诈骗提醒员队伍。",
             "和平社区60岁以上老年居民及其家属。", 600,
             (("活动", "防诈骗主题讲座及情景剧（6场×1,500元）", "9000.00"),
              ("物资", "宣传折页、海报印制", "3600.00"),
              ("人员", "志愿者交通及误餐补贴", "2400.00"),
              ("管理", "项目管理", "1000.00"))),
    Proposal("C", "purchase", "yksg", "困难老人居家适老化改造需求评估与实施", "和平社区",
             "对和平社区约30户困难老人家庭开展适老化需求评估，实施卫生间扶手、防滑地面、夜间感应灯等改造。",
             "1. 完成30户入户评估；2. 完成改造不少于25户；3. 改造后跌倒风险评估改善率不低于80%。",
             "和平社区低保、低边及失能半失能老人家庭约30户。", 30,
             (("工程", "卫生间扶手、防滑地面等改造（约30户）", "42000.00"),
              ("人员", "评估社工及康复师劳务", "10000.00"),
              ("管理", "项目管理及验收", "6000.00"))),
    Proposal("D", "venture", "lsjy", "垃圾分类积分兑换与楼道微花园", "阳光社区",
             "以积分兑换激励居民参与垃圾分类，并由居民自主设计、共同养护楼道微花园，带动楼栋自治。",
             "1. 垃圾分类准确率提升至90%；2. 建成楼道微花园12处；3. 培育环保督导志愿者30名。",
             "阳光社区12个楼栋约1,500户居民。", 1500,
             (("活动", "积分兑换礼品及活动物料", "14000.00"),
              ("物资", "楼道微花园绿植、花箱", "9500.00"),
              ("人员", "环保督导员补贴", "8000.00"),
              ("管理", "项目管理", "3500.00"))),
    Proposal("E", "venture", "qsn", "四点半课堂·青少年课后成长营", "和平社区",
             "为双职工家庭和困境家庭的小学生提供放学后课业辅导、兴趣课程和暑期成长营，缓解“三点半”接娃难题。",
             "1. 每学期服务学生60名；2. 开设兴趣课程4门；3. 家长满意度不低于90%。",
             "和平社区及周边小学1–6年级学生，优先困境家庭儿童。", 120,
             (("人员", "课业辅导老师及社工补贴", "26400.00"),
              ("活动", "兴趣课程及暑期成长营", "12600.00"),
              ("物资", "图书、文具及教具", "6000.00"),
              ("管理", "项目管理及评估", "3000.00"))),
    Proposal("F", "venture", "llhz", "楼道邻里节·守望相助", "和平社区",
             "在和平社区8个楼栋举办楼道邻里节，建立楼栋互助联系卡，让邻里之间互相认识、互相照应。",
             "1. 举办楼道邻里节8场；2. 建立邻里互助小组8个；3. 发放互助联系卡800张。",
             "和平社区8个楼栋约800户居民。", 800,
             (("活动", "楼道邻里节活动（8个楼栋）", "7200.00"),
              ("物资", "邻里互助联系卡、宣传品", "2800.00"),
              ("人员", "志愿者骨干培训", "2000.00"))),
    Proposal("G", "venture", "ygwl", "长者数字生活课堂", "阳光社区",
             "教社区老人使用智能手机挂号、支付、视频通话和防范网络诈骗，帮助老年人跨越“数字鸿沟”。",
             "1. 开设课程4期，每期10课时；2. 结业学员不少于80人；3. 培养“银龄数字助手”志愿者10名。",
             "阳光社区60岁以上老人。", 80,
             (("物资", "教学用平板电脑（10台）", "15000.00"),
              ("人员", "授课老师及志愿者补贴", "9600.00"),
              ("活动", "课程材料与结业活动", "5400.00"))),
    Proposal("H", "venture", "txzc", "残障青年融合就业技能培训", "全区",
             "为辖区16–35岁残障青年提供职业技能培训、企业见习和就业跟踪辅导，推动融合就业。",
             "1. 开展培训3期，学员45人；2. 联系爱心企业10家提供见习岗位；3. 培训后就业率不低于30%。",
             "辖区持证残障青年及其家庭。", 45,
             (("人员", "职业培训师及就业辅导员", "22000.00"),
              ("活动", "技能培训及企业见习（3期）", "12000.00"),
              ("物资", "培训教材与辅具", "4000.00"),
              ("管理", "项目管理", "2000.00"))),
    Proposal("I", "venture", "yksg", "社区心理支持小组", "和平社区",
             "面向照顾失能老人的家庭照护者开展心理支持小组和喘息服务（草稿，待完善）。",
             "", "", 0,
             (("人员", "心理咨询师督导费", "12000.00"),
              ("活动", "支持小组活动（8节×4组）", "8000.00")),
             requested="25000.00"),
)

# application key -> reviewer key -> (scores in rubric order, overall comment, first criterion's comment);
# a string instead: the reviewer declares this conflict of interest; None: assigned, nothing done yet
REVIEWS: dict[str, dict[str, Any]] = {
    "A": {"reviewer": (("9.0", "8.5", "8.0"), "服务对象明确，助餐点布局合理；建议明确应急呼叫设备的维护责任。",
                       "高龄独居老人比例高，需求迫切。"),
          "reviewer2": (("8.5", "9.0", "7.5"), "机构在本社区有三年为老服务基础，团队稳定，报价略高但可接受。", ""),
          "reviewer3": "本人曾担任阳光为老服务中心的项目督导顾问，申请回避"},
    "B": {"reviewer2": (("8.0", "7.5", "9.0"), "活动形式接地气，与派出所合作有保障。", ""),
          "reviewer3": (("7.5", "8.0", "8.5"), "建议增加对独居老人的入户宣传。", "")},
    "C": {"reviewer": (("7.0", "6.5", "5.5"), "改造需求真实，但工程费用测算依据不足，缺少报价单。",
                       "困难老人居家安全需求明确。"),
          "reviewer2": (("6.5", "7.0", "6.0"), "机构缺少工程项目管理经验，建议与专业施工方合作。", "")},
    "D": {"reviewer": (("8.5", "8.0", "9.0", "7.5"), "居民参与设计充分，可持续性好；礼品预算可再压缩。",
                       "垃圾分类是社区当前重点工作。"),
          "reviewer2": (("8.0", "8.5", "9.5", "8.0"), "楼栋自治的思路很好，建议与物业签订养护协议。", "")},
    "E": {"reviewer": (("9.0", "8.5", "8.0", "8.5"), "需求调研扎实，困境儿童优先的安排值得肯定。",
                       "双职工家庭“三点半”难题突出。"),
          "reviewer2": (("9.5", "8.0", "8.5", "8.0"), "师资稳定，建议加强安全管理制度。", ""),
          "reviewer3": (("8.5", "9.0", "8.0", "9.0"), "预算清晰合理，成本效益高。", "")},
    "F": {"reviewer2": (("7.5", "8.0", "9.0", "8.5"), "小而美的项目，社区参与度高。", ""),
          "reviewer3": (("7.0", "7.5", "8.5", "8.0"), "建议明确互助小组的长效运行机制。", ""),
          "reviewer": None},
}


def _money(value: str) -> Decimal:
    return Decimal(value)


def bank_ref(day: dt.date) -> str:
    """A bank slip number as the bank prints it."""
    return f"HD{day:%Y%m%d}{day.toordinal() % 97:04d}"


class GrantStory:
    """Plays the grants story; each step names its day. `self.apps` holds the applications by key."""

    def __init__(self, session: Session, today: dt.date, password: str):
        self.session = session
        self.cal = Calendar.for_today(today)
        self.today = today
        self.password = password
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Organisation] = {}
        self.programmes: dict[str, Programme] = {}
        self.apps: dict[str, Application] = {}
        self.awards: dict[str, Award] = {}

    def user(self, key: str) -> User:
        if key not in self.users:
            found = find_user_by_email(self.session, demo_email(key))
            if found is None:
                raise LookupError(f"demo user {key} is missing")
            self.users[key] = found
        return self.users[key]

    # --- people and organisations ---------------------------------------------------------------------------

    def create_users(self) -> None:
        admin = self.user("admin")
        for key, role, name in GRANT_USERS:
            self.users[key] = create_user(self.session, demo_email(key), self.password, [role], name=name, actor=admin)

    def create_organisations(self) -> None:
        admin = self.user("admin")
        for key, kind, serial, name, org_type, community, contact, phone, email, address, bank, account_no in (
                ORGANISATIONS):
            values = {"name": name, "reg_no": credit_code(kind, serial), "org_type": org_type, "community": community,
                      "contact_name": contact, "contact_phone": phone, "contact_email": email, "address": address,
                      "bank_name": bank, "bank_account_name": name, "bank_account_no": account_no}
            if key == "ygwl":  # the demo applicant registered its organisation itself
                self.orgs[key] = create_own_organisation(self.session, values, self.user("applicant"))
            else:
                self.orgs[key] = save_organisation(self.session, None, values, admin)
        link_member(self.session, self.orgs["llhz"], self.user("applicant2").email, admin)

    def member_of(self, org_key: str) -> User | None:
        """The organisation's own demo user, if it has one (others' applications came in on paper)."""
        return {"ygwl": self.user("applicant"), "llhz": self.user("applicant2")}.get(org_key)

    # --- money and programmes -------------------------------------------------------------------------------

    def fund(self, code: str) -> Fund:
        return self.session.scalars(select(Fund).where(Fund.code == code)).one()

    def receive_purchase_money(self) -> None:
        """The district's civil affairs bureau transfers the money for the services it buys through the foundation."""
        accounts = {a.code: a for a in self.session.scalars(select(Account).where(Account.code.in_(("1002", "4401"))))}
        fund, amount = self.fund("ELD"), Decimal("200000.00")
        post_entry(self.session, effective_date=self.cal.day(0), idempotency_key="demo-grants:purchase-money",
                   memo=f"区民政局拨付{self.cal.start.year}年度政府购买居家养老服务项目资金（银行转账）",
                   lines=[LineSpec(accounts["1002"], fund, amount), LineSpec(accounts["4401"], fund, -amount)],
                   author=self.user("finance"))

    def create_programmes(self) -> None:
        year, on, finance = self.cal.start.year, self.cal.day(0), self.user("finance")
        venture = create_programme(self.session, {
            "code": f"GYCT-{year}", "title": f"{year}年度社区公益创投大赛", "kind": ProgrammeKind.venture.value,
            "fund_id": self.fund("VEN").id, "budget": _money("100000.00"), "max_request": _money("50000.00"),
            "description": "面向在本区登记或备案的社区社会组织，择优资助回应社区需求、居民广泛参与的创新型服务项目。"
                           "单个项目资助额度不超过5万元，项目周期不超过12个月。",
            "eligibility": "1. 在本区民政部门登记或街道备案的社会组织；2. 成立满一年，无不良信用记录；"
                           "3. 项目实施地在本区；4. 同一机构本年度限报一个项目。",
            "opens_on": on, "closes_on": self.today + dt.timedelta(days=30)}, [
            CriterionInput("需求迫切性", Decimal("30"), 10, "项目回应的社区需求是否真实、迫切，有无需求调研。"),
            CriterionInput("方案可行性", Decimal("30"), 10, "目标、活动与进度安排是否清晰可行，团队能否胜任。"),
            CriterionInput("社区参与", Decimal("20"), 10, "居民、志愿者和社区各方参与的程度与方式。"),
            CriterionInput("预算合理性", Decimal("20"), 10, "预算是否与活动匹配、测算有据、成本效益合理。"),
        ], finance, on=on)
        purchase = create_programme(self.session, {
            "code": f"ZFGM-{year}-YL", "title": f"{year}年度居家养老服务项目（政府购买服务）",
            "kind": ProgrammeKind.purchase.value, "fund_id": self.fund("ELD").id, "budget": _money("200000.00"),
            "max_request": _money("150000.00"),
            "description": "受区民政局委托，向具备为老服务能力的社会组织购买高龄独居老人探访、助餐、防诈骗宣传和"
                           "适老化改造等居家养老服务。",
            "eligibility": "在本区登记、具有为老服务经验的社会组织；须提交服务方案、报价及机构资质证明。",
            "opens_on": on, "closes_on": self.cal.day(0.15)}, [
            CriterionInput("服务方案", Decimal("40"), 10, "服务内容、频次、质量标准与风险应对。"),
            CriterionInput("机构能力", Decimal("30"), 10, "为老服务经验、团队与管理制度。"),
            CriterionInput("报价合理性", Decimal("30"), 10, "报价与服务量匹配，测算依据充分。"),
        ], finance, on=on)
        for programme in (venture, purchase):
            set_programme_status(self.session, programme, ProgrammeStatus.open.value, finance, on=on)
        self.programmes = {"venture": venture, "purchase": purchase}

    # --- applications ---------------------------------------------------------------------------------------

    def apply(self, proposal: Proposal, on: dt.date, *, submit: bool = True) -> Application:
        programme, organisation = self.programmes[proposal.programme], self.orgs[proposal.organisation]
        actor = self.member_of(proposal.organisation)
        application = apps.start_application(self.session, programme, organisation, actor, on=on)
        if proposal.programme == "purchase":
            starts = self.cal.day(0.3) if proposal.key == "B" else self.cal.day(0.4)
            ends = self.cal.day(0.65) if proposal.key == "B" else starts.replace(year=starts.year + 1) - dt.timedelta(1)
        else:
            starts = self.today + dt.timedelta(days=45)
            ends = starts + dt.timedelta(days=300)
        lines = [apps.LineInput(item, _money(amount), category) for category, item, amount in proposal.lines]
        requested = _money(proposal.requested) if proposal.requested else sum((line.amount for line in lines),
                                                                               Decimal("0.00"))
        values = {"title": proposal.title, "community": proposal.community, "summary": proposal.summary,
                  "objectives": proposal.objectives, "beneficiaries": proposal.beneficiaries,
                  "beneficiaries_count": proposal.count, "starts_on": starts, "ends_on": ends,
                  "requested_amount": requested}
        version = apps.save_draft(self.session, application, values, lines, actor)
        if submit:
            plan = pdf_document([f"{proposal.title} 项目申报书", f"申报机构：{organisation.name}",
                                 f"申报项目：{programme.title}", f"申请金额：{requested:,.2f} 元",
                                 f"服务对象：{proposal.beneficiaries}", f"项目周期：{starts} 至 {ends}"])
            save_grant_attachment(self.session, Upload("项目申报书.pdf", plan), version=version, actor=actor)
            apps.submit_application(self.session, application, actor, on=on)
        self.apps[proposal.key] = application
        return application

    def review(self, key: str) -> None:
        """Assign the reviewers of REVIEWS[key]; each declares a conflict, does nothing yet, or scores and submits."""
        application, sheets = self.apps[key], REVIEWS[key]
        reviewers = [self.user(name) for name in sheets]
        assignments = review.assign_reviewers(self.session, application, [r.id for r in reviewers],
                                              self.user("admin"))
        criteria = application.programme.criteria
        for reviewer, assignment in zip(reviewers, assignments, strict=True):
            sheet = sheets[reviewer.email.split("@")[0]]
            if sheet is None:
                continue
            if isinstance(sheet, str):
                review.declare_conflict(self.session, assignment, sheet, reviewer)
                continue
            scores, comment, first_comment = sheet
            review.confirm_no_conflict(self.session, assignment, reviewer)
            entries = [ScoreInput(c.id, Decimal(score), first_comment if n == 0 else "")
                       for n, (c, score) in enumerate(zip(criteria, scores, strict=True))]
            review.save_review(self.session, assignment, entries, comment, reviewer, submit=True)

    # --- the story ------------------------------------------------------------------------------------------

    def applications_arrive(self) -> None:
        day = self.cal.day
        for key, on in (("A", 0.04), ("B", 0.05), ("C", 0.06), ("D", 0.08), ("E", 0.1), ("F", 0.12), ("G", 0.14),
                        ("H", 0.2)):
            self.apply(next(p for p in PROPOSALS if p.key == key), day(on))
        self.apply(next(p for p in PROPOSALS if p.key == "I"), day(0.22), submit=False)
        set_programme_status(self.session, self.programmes["purchase"], ProgrammeStatus.closed.value,
                             self.user("finance"), on=day(0.16))

    def screening_and_review(self) -> None:
        admin = self.user("admin")
        for key in ("A", "B", "C", "D", "E", "F"):
            self.review(key)
        for key in ("A", "B", "D", "E"):
            apps.recommend(self.session, self.apps[key], admin, "评审通过，推荐资助，等待审批。")
        apps.recommend(self.session, self.apps["C"], admin, "服务需求真实，但评审意见对预算有保留，提请理事会审议。")
        apps.request_revision(self.session, self.apps["G"],
                              "预算中平板电脑购置费占50%，比例过高：请改为租用或由合作单位提供设备，调整预算结构，"
                              "并补充“银龄数字助手”志愿者的培训计划。", admin)

    def staff_award(self) -> None:
        """A small purchase decided by staff alone, paid at once, reported on (returned once), and closed with the
        unspent money returned."""
        day, finance, grantee = self.cal.day, self.user("finance"), self.user("applicant2")
        board.staff_decide(self.session, self.apps["B"], "approved", _money("16000.00"),
                           "金额在秘书处审批权限内；评审意见良好，同意购买。", self.user("admin"), on=day(0.28))
        award = self._award("B")
        request_payment(self.session, PaymentInput(award.tranches[0], day(0.3), bank_ref(day(0.3)),
                                                   key=str(uuid.uuid4())), finance, today=self.today)
        lines = {line.item: line.id for line in award.application.latest_submitted.budget_lines}
        spent = {"防诈骗主题讲座及情景剧（6场×1,500元）": "9000.00", "宣传折页、海报印制": "3180.00",
                 "志愿者交通及误餐补贴": "1920.00", "项目管理": "700.00"}
        report = ReportInput(
            award, ReportKind.final.value, day(0.3), day(0.65),
            "在和平社区6个小区完成防诈骗主题讲座及情景剧6场，社区民警现场讲解冒充公检法、保健品推销等常见骗局。",
            "宣传活动6场；发放折页2,000份；组建楼栋提醒员队伍12人。", 640,
            spending={lines[item]: _money(amount) for item, amount in spent.items()})
        first = file_report(self.session, report, grantee, today=self.today)
        return_report(self.session, first, "请补充各场次的签到表和活动照片后重新提交。", finance)
        sign_in = pdf_document(["防诈骗宣传活动签到表", "第1–6场签到汇总：共640人次"])
        report.attachments = [Upload(f"活动照片{n}.png", png_picture(seed=n)) for n in (1, 2)]
        report.attachments.append(Upload("签到表.pdf", sign_in))
        accept_report(self.session, file_report(self.session, report, grantee, today=self.today), finance,
                      "资料齐全，同意结项。")
        close_award(self.session, CloseInput(award, day(0.7), "项目按协议完成，结余资金已退回。", _money("1200.00"),
                                             day(0.68), "退款回单 TK-0921"), finance, today=self.today)

    def board_meeting(self) -> None:
        """Agenda 1: the two larger purchases; one member recused on A, one absent; staff close the vote."""
        day, admin = self.cal.day, self.user("admin")
        members = [self.user(k) for k in ("board", "board2", "board3", "board4")]
        agenda = board.create_agenda(self.session, f"{self.cal.start.year}年第三次理事会（线上表决）", day(0.38), None,
                                     admin)
        first = board.add_item(self.session, agenda, self.apps["A"], _money("120000.00"),
                               f"评审加权平均分{self.score('A')}分（满分100），建议按申请金额资助，分三期拨付。", admin)
        second = board.add_item(self.session, agenda, self.apps["C"], _money("58000.00"),
                                f"评审加权平均分{self.score('C')}分，工程预算依据不足；秘书处提请理事会审议。", admin)
        board.open_agenda(self.session, agenda, admin)
        member, member2, member3, _absent = members
        board.declare_recusal(self.session, first, member3, "本人担任阳光为老服务中心监事，申请回避。")
        board.cast_vote(self.session, first, member, "approve", "服务对象精准，同意。")
        board.cast_vote(self.session, first, member2, "approve", "")
        board.cast_vote(self.session, second, member, "approve", "需求真实，可先小范围试点。")
        board.cast_vote(self.session, second, member2, "reject", "工程报价依据不足，建议补充后再报。")
        board.cast_vote(self.session, second, member3, "reject", "建议与住建部门适老化改造补贴衔接。")
        board.close_agenda(self.session, agenda, admin, on=day(0.38))

    def board_award(self) -> None:
        """Three tranches; the first paid after a second approval, the progress report accepted, the second
        requested and waiting for the second approver."""
        day, finance, finance2 = self.cal.day, self.user("finance"), self.user("finance2")
        award = self._award("A")
        ends = award.application.latest_submitted.ends_on
        tranches = set_schedule(self.session, award, [
            TrancheSpec(_money("54000.00"), day(0.4), "签订服务协议，项目启动"),
            TrancheSpec(_money("54000.00"), day(0.75), "完成中期评估，进度报告经审核通过", True),
            TrancheSpec(_money("12000.00"), ends, "项目结项验收，结项报告经审核通过", True)], self.user("admin"))
        payment = request_payment(self.session, PaymentInput(tranches[0], day(0.42), bank_ref(day(0.42)),
                                                             key=str(uuid.uuid4())), finance, today=self.today)
        approve_payment(self.session, payment, finance2)
        lines = {line.item: line.id for line in award.application.latest_submitted.budget_lines}
        spent = {"社工及助老员服务补贴（2名×12个月）": "9600.00", "长者助餐补贴（每餐5元，约9,000人次）": "7350.00",
                 "探访慰问物资及应急呼叫设备": "6800.00", "项目督导与第三方评估": "1200.00"}
        report = file_report(self.session, ReportInput(
            award, ReportKind.progress.value, day(0.42), day(0.78),
            "项目启动后完成180位高龄独居老人的入户建档，长者食堂开始供餐，首批40户应急呼叫设备已安装调试。",
            "入户建档180户；上门探访520人次；助餐1,470人次；安装应急呼叫设备40户；招募低龄志愿者14人。", 180,
            spending={lines[item]: _money(amount) for item, amount in spent.items()},
            attachments=[Upload("助餐点照片.png", png_picture(seed=3))]), self.user("applicant"), today=self.today)
        accept_report(self.session, report, finance, "进度符合协议，同意拨付第二期。")
        request_payment(self.session, PaymentInput(tranches[1], day(0.82), bank_ref(day(0.82)), key=str(uuid.uuid4())),
                        finance, today=self.today)

    def open_agenda(self) -> None:
        """Agenda 2, open: one 公益创投 project waiting for the board; two of the four members have voted."""
        admin = self.user("admin")
        agenda = board.create_agenda(self.session, f"{self.cal.start.year}年第四次理事会（线上表决）",
                                     self.today + dt.timedelta(days=7), utcnow() + dt.timedelta(days=7), admin)
        item = board.add_item(self.session, agenda, self.apps["D"], _money("35000.00"),
                              f"两位评审专家加权平均分{self.score('D')}分，建议按申请金额资助。", admin)
        board.open_agenda(self.session, agenda, admin)
        board.cast_vote(self.session, item, self.user("board2"), "approve", "居民参与度高，同意。")
        board.cast_vote(self.session, item, self.user("board4"), "approve", "")

    def score(self, key: str) -> Decimal | None:
        """The application's weighted review score, as the ranking shows it."""
        application = self.apps[key]
        rows, _counts = review.programme_ranking(self.session, application.programme)
        return next(row.score for row in rows if row.entry.key.id == application.id)

    def _award(self, key: str) -> Award:
        application = self.apps[key]
        self.session.refresh(application)
        award = self.session.scalars(select(Award).where(Award.application_id == application.id)).one()
        self.awards[key] = award
        return award

    def run(self) -> str:
        self.create_users()
        self.create_organisations()
        self.receive_purchase_money()
        self.create_programmes()
        self.applications_arrive()
        self.screening_and_review()
        self.staff_award()
        self.board_meeting()
        self.board_award()
        self.open_agenda()
        return (f"grants: {len(self.orgs)} organisations, {len(self.programmes)} programmes, {len(self.apps)} "
                f"applications, {len(self.awards)} awards, {len(GRANT_USERS)} more users")


def load_grants(session: Session, today: dt.date, password: str) -> str:
    """Add the grants story to a freshly loaded demo (flush only; the caller commits). Returns a summary."""
    return GrantStory(session, today, password).run()

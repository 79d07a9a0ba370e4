"""The demo foundation's donors and gifts (`flask demo load`, inside `load_demo`, before the months are closed).

Twelve donors (seven people, five organisations; three of them asked not to be named in public) give about forty
gifts over the demo year, by every method, into the public funds and one into the hidden 困境家庭救助 fund. Most
gifts get their receipt a few days later; one receipt is voided (the payer's name was printed short) and issued
again; one gift booked at ten times the bank slip is corrected (reversed and recorded again); a company pledges
60,000 to the venture fund and pays half of it.

Everything goes through the donations services (create_donor, record_donation, correct_donation, record_pledge,
record_pledge_payment, issue_receipt, void_receipt), as the staff pages would, so the books and the receipt
numbering verify. Dates and keys are derived from `today` and fixed names only: the same `today` gives the same
data, and each gift's key (a uuid5) makes recording it again a no-op.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fundapp.donations.donors import create_donor, credit_code_valid, link_user, resident_id_valid, update_donor
from fundapp.donations.models import Donation, DonationMethod, Donor, DonorKind, Pledge, ValuationBasis
from fundapp.donations.pledges import PaymentInput, PledgeInput, record_pledge, record_pledge_payment
from fundapp.donations.receipts import issue_receipt, void_receipt
from fundapp.donations.services import DonationInput, correct_donation, record_donation
from fundapp.ledger.models import Fund

REGION = "330106"  # the district's administrative division code
KEY_SPACE = uuid.UUID("6f1d2c0e-5b7a-4c1e-9d3f-20260101d0a7")
RECEIPT_DELAY = 3  # days from a gift to its receipt

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

CASH, BANK, ONLINE, IN_KIND = (DonationMethod.cash.value, DonationMethod.bank_transfer.value,
                               DonationMethod.online.value, DonationMethod.in_kind.value)


def resident_id(birth: str, serial: str) -> str:
    """A resident ID number (GB 11643) of someone born on `birth` (YYYYMMDD) in the district; `serial` 3 digits."""
    first17 = f"{REGION}{birth}{serial}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    code = first17 + "10X98765432"[total % 11]
    assert resident_id_valid(code), code
    return code


def company_credit_code(serial: str) -> str:
    """A unified social credit code (GB 32100) of a company registered in the district (91: 工商, 企业);
    `serial` 8 characters of the organisation code, whose check character is added."""
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(serial, _ORG_CODE_WEIGHTS,
                                                                                  strict=True))
    check = 11 - total % 11
    first17 = f"91{REGION}{serial}{ {10: 'X', 11: '0'}.get(check, str(check))}"
    total = sum(_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    code = first17 + _ALPHABET[(31 - total % 31) % 31]
    assert credit_code_valid(code), code
    return code


def demo_key(name: str) -> str:
    """A stable uuid for one demo record: the same name always gives the same key."""
    return str(uuid.uuid5(KEY_SPACE, name))


@dataclass(frozen=True)
class DemoDonor:
    key: str
    kind: str
    name: str
    id_code: str
    contact_person: str
    phone: str
    email: str
    address: str
    anonymous: bool = False
    notes: str = ""


PERSON, ORG = DonorKind.person.value, DonorKind.organisation.value

DONORS: tuple[DemoDonor, ...] = (
    DemoDonor("zhangxm", PERSON, "张晓梅", resident_id("19780315", "024"), "", "13706812345", "zhangxm@example.cn",
              "某区阳光街道阳光花园3幢2单元501室", notes="门户用户：捐赠人 张晓梅"),
    DemoDonor("lijg", PERSON, "李建国", resident_id("19520908", "013"), "", "13805711208", "lijianguo@example.cn",
              "某区和平街道和平里小区7幢302室", notes="退休教师，每年重阳节前后捐赠"),
    DemoDonor("wangl", PERSON, "王丽", resident_id("19850621", "046"), "", "13957102233", "wangli85@example.cn",
              "某区文化路88号锦绣苑12幢1801室", anonymous=True, notes="要求公开时匿名"),
    DemoDonor("chenzm", PERSON, "陈志明", resident_id("19690112", "031"), "", "13606718890", "chenzhiming@example.cn",
              "某区阳光街道幸福路26号"),
    DemoDonor("zhaoyq", PERSON, "赵雅琴", resident_id("19911030", "068"), "", "15057193344", "zhaoyaqin@example.cn",
              "某区和平街道学府路66号3幢602室", anonymous=True, notes="要求公开时匿名"),
    DemoDonor("sunh", PERSON, "孙浩", resident_id("19880227", "055"), "", "18758125566", "sunhao@example.cn",
              "某区文化路120号", notes="现金捐赠，不需要收据"),
    DemoDonor("zhouyl", PERSON, "周玉兰", resident_id("19570418", "022"), "", "13588017788", "zhouyulan@example.cn",
              "某区和平街道康乐路9号2幢101室"),
    DemoDonor("hengxin", ORG, "某市恒信科技有限公司", company_credit_code("MA2H7K3L"), "行政部 吴倩", "0571-86021234",
              "csr@hengxin.example.cn", "某区科技园创新大道518号"),
    DemoDonor("ygwy", ORG, "阳光花园物业", company_credit_code("MA27QX1B"), "项目经理 郑伟", "0571-86035678",
              "service@ygwy.example.cn", "某区阳光街道阳光花园物业服务中心"),
    DemoDonor("xinyuan", ORG, "某市鑫源餐饮管理有限公司", company_credit_code("MA2CJ08P"), "总经理 冯建",
              "0571-86047788", "fengjian@xinyuan.example.cn", "某区文化路200号鑫源大厦5楼", anonymous=True,
              notes="企业要求公开时匿名"),
    DemoDonor("nsh", ORG, "某市城东农村商业银行某区支行", company_credit_code("MA28N5D6"), "办公室 沈丽",
              "0571-86051122", "office@cdnsh.example.cn", "某区和平路1号"),
    DemoDonor("hmj", ORG, "某市和美家超市连锁有限公司", company_credit_code("MA2E9R4T"), "采购部 蒋涛", "0571-86063344",
              "jiangtao@hmj.example.cn", "某区阳光街道商业街16号"),
)
FULL_NAMES = {"ygwy": "某市阳光花园物业服务有限公司"}  # the name the voided receipt should have printed


@dataclass(frozen=True)
class Gift:
    """One gift: `months` before today's month, on `day`; donor None is a gift nobody put a name to."""

    name: str
    months: int
    day: int
    donor: str | None
    fund: str
    amount: str
    method: str
    purpose: str = ""
    item: tuple[str, str, str, str] | None = None  # description, quantity, unit, valuation basis
    receipt: bool = True


GIFTS: tuple[Gift, ...] = (
    Gift("g01", 12, 6, "zhangxm", "MF-YG", "2000.00", BANK),
    Gift("g02", 12, 18, "hengxin", "GEN", "50000.00", BANK),
    Gift("g03", 11, 3, None, "GEN", "326.50", CASH, "邻里节爱心义卖现金募捐箱"),
    Gift("g04", 11, 12, "lijg", "ELD", "5000.00", BANK),
    Gift("g05", 11, 25, "hmj", "ELD", "18600.00", IN_KIND, "冬季高龄老人慰问",
         ("米面粮油慰问包（每份60元）", "310", "份", ValuationBasis.invoice.value)),
    Gift("g06", 10, 8, "wangl", "AID", "10000.00", BANK, "困境家庭子女助学"),
    Gift("g07", 10, 15, "ygwy", "MF-YG", "20000.00", BANK),
    Gift("g08", 10, 22, "chenzm", "MF-HP", "1000.00", ONLINE),
    Gift("g09", 9, 5, "nsh", "VEN", "30000.00", BANK, "公益创投大赛"),
    Gift("g10", 9, 16, "zhaoyq", "ELD", "3000.00", ONLINE),
    Gift("g11", 9, 27, "sunh", "GEN", "500.00", CASH, receipt=False),
    Gift("g12", 8, 2, "zhangxm", "ELD", "1000.00", ONLINE),
    Gift("g13", 8, 10, "xinyuan", "ELD", "12000.00", IN_KIND, "社区长者助餐",
         ("长者助餐套餐（协议价每份6元）", "2000", "份", ValuationBasis.agreement.value)),
    Gift("g14", 8, 20, "zhouyl", "MF-HP", "800.00", CASH),
    Gift("g16", 7, 14, "chenzm", "END", "10000.00", BANK, "追加社区发展留本基金本金"),
    Gift("g17", 7, 21, None, "MF-YG", "210.00", CASH, "居民议事会现场捐款"),
    Gift("g18", 6, 11, "ygwy", "MF-YG", "5000.00", IN_KIND, "楼道微改造",
         ("楼道花箱及绿植", "100", "套", ValuationBasis.fair_value.value)),
    Gift("g19", 6, 19, "wangl", "GEN", "5000.00", BANK),
    Gift("g20", 6, 27, "sunh", "VEN", "1500.00", ONLINE),
    Gift("g21", 5, 7, "nsh", "GEN", "20000.00", BANK),
    Gift("g22", 5, 15, "zhaoyq", "MF-HP", "2000.00", ONLINE),
    Gift("g23", 5, 23, "zhouyl", "ELD", "600.00", CASH),
    Gift("g24", 4, 3, "zhangxm", "MF-YG", "1000.00", ONLINE),
    Gift("g25", 4, 12, "hmj", "ELD", "9600.00", IN_KIND, "居家适老化改造",
         ("防滑垫、卫生间扶手等适老化用品", "80", "套", ValuationBasis.invoice.value)),
    Gift("g26", 4, 20, "lijg", "ELD", "3000.00", BANK),
    Gift("g27", 4, 28, None, "GEN", "520.00", ONLINE, "线上匿名捐赠"),
    Gift("g28", 3, 6, "chenzm", "VEN", "2000.00", ONLINE),
    Gift("g29", 3, 14, "xinyuan", "MF-HP", "8000.00", BANK),
    Gift("g30", 3, 22, "sunh", "MF-HP", "300.00", CASH, receipt=False),
    Gift("g31", 2, 5, "ygwy", "GEN", "10000.00", BANK),
    Gift("g32", 2, 13, "wangl", "ELD", "2000.00", ONLINE),
    Gift("g33", 2, 24, "zhouyl", "MF-YG", "500.00", CASH),
    Gift("g34", 1, 4, "hengxin", "ELD", "30000.00", BANK, "重阳节敬老"),
    Gift("g35", 1, 9, "zhangxm", "GEN", "888.00", ONLINE),
    Gift("g36", 1, 16, "zhaoyq", "VEN", "1200.00", ONLINE),
    Gift("g37", 1, 21, "nsh", "MF-HP", "15000.00", BANK),
    Gift("g38", 1, 26, "lijg", "MF-YG", "1000.00", CASH, receipt=False),  # not receipted yet
)
# booked at ten times the bank slip, corrected two days later (before any receipt)
WRONG_GIFT = Gift("g15", 7, 6, "lijg", "GEN", "20000.00", BANK)
RIGHT_AMOUNT = "2000.00"
CORRECTION_REASON = "金额录入错误：银行回单金额为2,000.00元，误录为20,000.00元"
VOIDED_GIFT = "g07"
VOID_REASON = "收据付款单位名称打印为简称，应为全称“某市阳光花园物业服务有限公司”，收回作废后重开"
# the pledge: donor, fund, amount, months before today's month (pledge, payment, due date), purpose
PLEDGE = ("hengxin", "VEN", "60000.00", (8, 6, 1), "公益创投大赛配套捐赠（分两期支付）")
PLEDGE_PAID = "30000.00"


def month_day(today: dt.date, months: int, day: int) -> dt.date:
    """Day `day` (at most the 28th) of the month `months` before today's month."""
    index = today.year * 12 + today.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, min(day, 28))


def bank_reference(day: dt.date, name: str) -> str:
    return f"HD{day:%Y%m%d}{int(uuid.UUID(demo_key(name))) % 10000:04d}"


class DonationStory:
    """Plays the demo's giving in date order; `donations`, `receipts` and `voided` count what was written."""

    def __init__(self, session: Session, today: dt.date, funds: dict[str, Fund], users: dict[str, Any]):
        self.session = session
        self.today = today
        self.funds = funds
        self.finance = users["finance"]
        self.users = users
        self.donors: dict[str, Donor] = {}
        self.gifts: dict[str, Donation] = {}
        self.pledged: Pledge | None = None
        self.receipts = 0

    def create_donors(self) -> None:
        for d in DONORS:
            values = {"kind": d.kind, "name": d.name, "id_code": d.id_code, "contact_person": d.contact_person,
                      "phone": d.phone, "email": d.email, "address": d.address, "anonymous_in_public": d.anonymous,
                      "notes": d.notes}
            self.donors[d.key] = create_donor(self.session, values, self.finance)
        donor_user = self.users.get("donor")
        if donor_user is not None:
            link_user(self.session, self.donors["zhangxm"], donor_user, self.users["admin"])

    # --- the gifts --------------------------------------------------------------------------------------------

    def _input(self, gift: Gift, amount: str | None = None, key: str | None = None) -> DonationInput:
        day = month_day(self.today, gift.months, gift.day)
        description, quantity, unit, basis = gift.item or ("", "", "", None)
        return DonationInput(
            fund=self.funds[gift.fund], received_on=day, amount=Decimal(amount or gift.amount), method=gift.method,
            donor=self.donors[gift.donor] if gift.donor else None, purpose=gift.purpose,
            reference=bank_reference(day, gift.name) if gift.method == BANK else "",
            item_description=description, quantity=quantity, unit=unit, valuation_basis=basis,
            key=key or demo_key(f"gift:{gift.name}"))

    def receipt_day(self, day: dt.date, delay: int = RECEIPT_DELAY) -> dt.date:
        later = min(day + dt.timedelta(days=delay), self.today)
        return later if later.year == day.year else day

    def issue(self, donation: Donation, delay: int = RECEIPT_DELAY) -> None:
        issue_receipt(self.session, donation, self.finance, issued_on=self.receipt_day(donation.received_on, delay))
        self.receipts += 1

    def record(self, gift: Gift) -> None:
        donation = record_donation(self.session, self._input(gift), self.finance, today=self.today)
        self.gifts[gift.name] = donation
        if gift.receipt and gift.donor is not None:
            self.issue(donation)
        if gift.name == VOIDED_GIFT:
            self.void_and_reissue(donation)

    def void_and_reissue(self, donation: Donation) -> None:
        """The receipt printed the donor's short name: void it, put the full name on the donor, issue again."""
        void_receipt(self.session, donation.active_receipt, VOID_REASON, self.finance)
        update_donor(self.session, donation.donor, {"name": FULL_NAMES["ygwy"]}, self.finance)
        self.issue(donation, delay=RECEIPT_DELAY + 7)

    def correct(self) -> None:
        """A bank transfer of 2,000 booked as 20,000, reversed and booked right two days later."""
        wrong = record_donation(self.session, self._input(WRONG_GIFT), self.finance, today=self.today)
        right = self._input(WRONG_GIFT, RIGHT_AMOUNT, demo_key(f"gift:{WRONG_GIFT.name}:corrected"))
        fixed = correct_donation(self.session, wrong, CORRECTION_REASON, right, self.finance,
                                 on=wrong.received_on + dt.timedelta(days=2), today=self.today)
        self.gifts[WRONG_GIFT.name], self.gifts[WRONG_GIFT.name + ":corrected"] = wrong, fixed
        self.issue(fixed, delay=RECEIPT_DELAY + 1)

    def pledge(self) -> None:
        donor, fund, amount, (pledged, _paid, due), purpose = PLEDGE
        self.pledged = record_pledge(self.session, PledgeInput(
            donor=self.donors[donor], fund=self.funds[fund], pledged_on=month_day(self.today, pledged, 26),
            amount=Decimal(amount), purpose=purpose, due_on=month_day(self.today, due, 28),
            key=demo_key("pledge:hengxin")), self.finance, today=self.today)

    def pay_pledge(self) -> None:
        """The first half of the pledge arrives; the rest is still outstanding."""
        day = month_day(self.today, PLEDGE[3][1], 4)
        payment = record_pledge_payment(self.session, PaymentInput(
            pledge=self.pledged, received_on=day, amount=Decimal(PLEDGE_PAID), method=BANK,
            reference=bank_reference(day, "pledge:hengxin:1"), key=demo_key("pledge:hengxin:1")),
            self.finance, today=self.today)
        self.gifts["pledge:1"] = payment
        self.issue(payment)

    def run(self) -> str:
        self.create_donors()
        events = [(month_day(self.today, g.months, g.day), n, lambda g=g: self.record(g)) for n, g in enumerate(GIFTS)]
        events.append((month_day(self.today, WRONG_GIFT.months, WRONG_GIFT.day), len(events), self.correct))
        events.append((month_day(self.today, PLEDGE[3][0], 26), len(events), self.pledge))
        events.append((month_day(self.today, PLEDGE[3][1], 4), len(events), self.pay_pledge))
        for _day, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
            action()
        return (f"donations: {len(self.donors)} donors, {len(self.gifts)} gifts (1 corrected), 1 pledge, "
                f"{self.receipts} receipts (1 voided)")


def load_donations(session: Session, today: dt.date, funds: dict[str, Fund], users: dict[str, Any]) -> str:
    """Add the demo's donors, gifts, receipts and pledge (flush only; the caller commits). Returns a summary."""
    return DonationStory(session, today, funds, users).run()

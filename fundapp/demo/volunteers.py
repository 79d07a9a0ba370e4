"""The demo foundation's time bank (`flask demo load`, after the grants): volunteers, activities, hours, points.

Twelve volunteers in three communities (some agree to appear by name on the public site, two sign in as the demo
volunteer users), an organiser who runs three of the five activities (two of them part of grant-funded projects),
a shift a month over the demo year with sign-ups, check-ins and check-outs or hours entered by the organiser, then
the organiser's verification: most verified, one rejected (and entered again right), one corrected (reversed and
re-entered), the latest month's still pending, a cancelled sign-up and two shifts still to come. A supermarket's
in-kind gift (Dr 1201 存货 / Cr 4101) stocks two goods rewards valued in 1201, next to two services offered by
neighbours; volunteers redeem some (Dr 5101 / Cr 1201 for the goods), one gives points to an elderly neighbour, who
spends them, and the demo volunteer gets a certificate.

Everything goes through the services (manage, service, points, exchange, reports, the donations service), so the
point ledger and the books both verify. Deterministic: no randomness (only the certificate's code is random, as the
service makes it). Idempotent: once the second demo volunteer user exists, `load_volunteers` does nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.auth.services import create_user, find_user_by_email
from fundapp.dates import DEFAULT_TIMEZONE
from fundapp.demo.data import demo_email
from fundapp.demo.donations import demo_key, month_day
from fundapp.donations.models import Donation, DonationMethod, Donor, ValuationBasis
from fundapp.donations.services import DonationInput, record_donation
from fundapp.grants.models import Award
from fundapp.ledger.models import Fund
from fundapp.ledger.services import lock_date
from fundapp.volunteers import exchange, manage, points, reports, service
from fundapp.volunteers.models import Activity, ActivityStatus, PointAccount, Reward, RewardKind, Shift, Volunteer

# key (email local part), role, name: the organiser and the first volunteer are the demo's users of those roles
# (fundapp/demo/data.py DEMO_USERS; created here for a demo loaded before they existed), the second is the time
# bank's own; the last one created marks the time bank as loaded
VOLUNTEER_USERS: tuple[tuple[str, str, str], ...] = (
    ("organiser", "organiser", "社工 吴晓燕（阳光社区社工站）"),
    ("volunteer", "volunteer", "志愿者 赵磊"),
    ("volunteer2", "volunteer", "志愿者 钱小红"),
)
LOADED_MARK = "volunteer2"

YG, HP, KL = "阳光社区", "和平社区", "康乐社区"


@dataclass(frozen=True)
class DemoVolunteer:
    key: str
    name: str
    community: str
    phone: str
    skills: str
    consent: bool  # may appear by name on the public pages
    user: str | None = None  # the demo user signing in as this volunteer


VOLUNTEERS: tuple[DemoVolunteer, ...] = (
    DemoVolunteer("zhaolei", "赵磊", YG, "13900010001", "驾驶、送餐", True, "volunteer"),
    DemoVolunteer("qianxh", "钱小红", HP, "13900010002", "陪伴聊天、手工", True, "volunteer2"),
    DemoVolunteer("sunjg", "孙建国", YG, "13900010003", "理发、家电小维修", True),
    DemoVolunteer("lifang", "李芳", YG, "13900010004", "烹饪", False),
    DemoVolunteer("zhoumin", "周敏", HP, "13900010005", "护理、量血压", True),
    DemoVolunteer("wujie", "吴杰", HP, "13900010006", "法律咨询、防诈骗宣讲", False),
    DemoVolunteer("zhengyu", "郑宇", KL, "13900010007", "数学、英语辅导", True),
    DemoVolunteer("wanghui", "王慧", KL, "13900010008", "绘画、阅读指导", False),
    DemoVolunteer("fengtao", "冯涛", YG, "13900010009", "木工、园艺", True),
    DemoVolunteer("chenli", "陈丽", HP, "13900010010", "摄影、宣传", False),
    DemoVolunteer("chujing", "褚静", KL, "13900010011", "心理疏导", True),
    DemoVolunteer("weiqiang", "卫强", KL, "13900010012", "体育、急救", False),
)


@dataclass(frozen=True)
class DemoActivity:
    key: str
    title: str
    community: str
    description: str
    organised: bool  # run by the demo organiser (else by staff)
    award: int | None  # index of the demo award it belongs to (by id), if any exist
    months: tuple[int, ...]  # months before today's month with a shift
    day: int
    start: tuple[int, int]  # local time
    minutes: int
    roster: tuple[str, ...]  # volunteers signed up to each shift (rotating, at most `capacity`)
    capacity: int
    served: int  # people served over the year, as reported


ACTIVITIES: tuple[DemoActivity, ...] = (
    DemoActivity("meals", "长者助餐送餐", YG, "每月为辖区高龄独居老人送餐上门，并了解老人近况。", True, 0,
                 (11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 10, (10, 0), 120,
                 ("zhaolei", "lifang", "sunjg", "fengtao", "qianxh"), 4, 186),
    DemoActivity("visits", "高龄老人探访", HP, "结对探访高龄、失能老人，陪伴聊天、量血压、排查居家安全隐患。", True, 1,
                 (10, 8, 6, 4, 2, 1), 18, (14, 0), 180, ("qianxh", "zhoumin", "chenli", "zhaolei"), 3, 64),
    DemoActivity("corridor", "楼道微改造与环境清洁", YG, "清理楼道杂物、摆放花箱绿植，与居民一起美化公共空间。", True,
                 None, (9, 6, 3, 1), 22, (8, 30), 180, ("fengtao", "sunjg", "lifang", "zhaolei", "chenli"), 5, 420),
    DemoActivity("tutoring", "青少年课后作业辅导", KL, "为双职工家庭的孩子提供课后作业辅导和阅读陪伴。", False, None,
                 (8, 7, 6, 5, 4, 3, 2, 1), 5, (16, 0), 120, ("zhengyu", "wanghui", "chujing", "weiqiang"), 3, 35),
    DemoActivity("antifraud", "社区防诈骗宣传", HP, "在社区广场和老年活动室开展防诈骗宣传和个案咨询。", False, None,
                 (5, 2), 26, (9, 0), 150, ("wujie", "zhoumin", "chenli", "qianxh"), 4, 230),
)
UPCOMING = (("meals", 7, ("zhaolei", "lifang")), ("tutoring", 10, ("zhengyu", "wanghui")))  # days after today

# the in-kind gift stocking the goods rewards
GIFT_DONOR = "某市和美家超市连锁有限公司"
GIFT = ("3000.00", "时间银行积分兑换物资：大米（5公斤装）60袋、食用油（5升装）40桶", "100", "件")
# name, kind, points, stock, given by, unit value in 1201 (goods from the gift)
REWARDS: tuple[tuple[str, str, str, int, str, str | None], ...] = (
    ("大米（5公斤装）", RewardKind.goods.value, "10", 60, "和美家超市", "30.00"),
    ("食用油（5升装）", RewardKind.goods.value, "12", 40, "和美家超市", "28.00"),
    ("上门理发", RewardKind.service.value, "3", 20, "志愿者 孙建国", None),
    ("家电小维修", RewardKind.service.value, "5", 10, "邻里便民维修点", None),
)
# volunteer, reward index, quantity
REDEMPTIONS: tuple[tuple[str, int, int], ...] = (("zhaolei", 0, 1), ("lifang", 1, 1), ("qianxh", 2, 2),
                                                 ("fengtao", 3, 1))
NEIGHBOUR = "独居老人 王秀英"
GIFTED = Decimal("6.00")
REJECT_REASON = "签到记录显示本次服务约2小时，录入的8小时有误，请重新录入"
CORRECT_REASON = "核对签到表：实际提前半小时离开，服务时长更正为2.5小时"


def volunteers_loaded(session: Session) -> bool:
    """True once the demo time bank is in (its second volunteer user exists)."""
    return find_user_by_email(session, demo_email(LOADED_MARK)) is not None


def _zone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name)


class TimeBankStory:
    def __init__(self, session: Session, today: dt.date, password: str):
        self.session = session
        self.today = today
        self.password = password
        self.admin = find_user_by_email(session, demo_email("admin"))
        self.users: dict[str, Any] = {}
        self.volunteers: dict[str, Volunteer] = {}
        self.activities: dict[str, Activity] = {}
        self.shifts = 0
        self.signups = 0
        self.records = 0
        self.verified = 0
        self.pending = 0
        self.redemptions = 0

    # --- people ---------------------------------------------------------------------------------------------

    def create_users(self) -> None:
        for key, role, name in VOLUNTEER_USERS:
            self.users[key] = find_user_by_email(self.session, demo_email(key)) or create_user(
                self.session, demo_email(key), self.password, [role], name=name, actor=self.admin)

    def create_volunteers(self) -> None:
        for v in VOLUNTEERS:
            volunteer = manage.create_volunteer(self.session, manage.VolunteerInput(
                name=v.name, phone=v.phone, community=v.community, skills=v.skills, consent_public=False,
                email=f"{v.key}@example.cn"), self.admin)
            if v.user is not None:
                manage.link_user(self.session, volunteer, self.users[v.user], self.admin)
            if v.consent:  # the volunteer's own choice, recorded as theirs when they have a sign-in
                manage.set_consent(self.session, volunteer, True, self.users.get(v.user) or self.admin)
            self.volunteers[v.key] = volunteer

    def signer(self, volunteer: Volunteer) -> Any:
        """Who signs the volunteer up: themself when they have a sign-in, else staff (the admin)."""
        for v in VOLUNTEERS:
            if v.user is not None and self.volunteers.get(v.key) is volunteer:
                return self.users[v.user]
        return self.admin

    # --- activities, shifts and hours -----------------------------------------------------------------------

    def _award_ids(self) -> list[int]:
        return list(self.session.scalars(select(Award.id).order_by(Award.id).limit(2)))

    def create_activities(self) -> None:
        awards = self._award_ids()
        for a in ACTIVITIES:
            award = awards[a.award] if a.award is not None and a.award < len(awards) else None
            self.activities[a.key] = manage.create_activity(self.session, manage.ActivityInput(
                title=a.title, description=a.description, community=a.community, award_id=award,
                organiser_id=self.users["organiser"].id if a.organised else None), self.admin)

    def _manager(self, activity: Activity) -> Any:
        return self.users["organiser"] if activity.organiser_id is not None else self.admin

    def _shift(self, spec: DemoActivity, day: dt.date) -> Shift:
        start = dt.datetime.combine(day, dt.time(*spec.start), _zone()).astimezone(dt.UTC)
        end = start + dt.timedelta(minutes=spec.minutes)
        shift = manage.add_shift(self.session, self.activities[spec.key], start, end, spec.capacity,
                                 self._manager(self.activities[spec.key]))
        self.shifts += 1
        return shift

    def _roster(self, spec: DemoActivity, n: int) -> list[Volunteer]:
        """The shift's volunteers: the activity's roster, rotating by shift, as many as the shift holds."""
        size = min(spec.capacity, len(spec.roster))
        return [self.volunteers[spec.roster[(n + i) % len(spec.roster)]] for i in range(size)]

    def serve(self, spec: DemoActivity, n: int, months: int) -> None:
        """One past shift: sign-ups, then check-in/out or hours entered by the organiser, then verification
        (the last month's hours wait for it)."""
        activity = self.activities[spec.key]
        manager = self._manager(activity)
        shift = self._shift(spec, month_day(self.today, months, spec.day))
        for i, volunteer in enumerate(self._roster(spec, n)):
            signup = service.sign_up(self.session, volunteer, shift, self.signer(volunteer))
            self.signups += 1
            if (n + i) % 7 == 6:  # could not come after all
                service.cancel(self.session, signup, self.signer(volunteer))
                continue
            if (n + i) % 3 == 2:  # no check-in on the day: the organiser enters the hours afterwards
                hours = Decimal(spec.minutes) / 60
                record = service.enter_hours(self.session, signup, hours.quantize(Decimal("0.01")), manager)
            else:
                arrived = shift.starts_at + dt.timedelta(minutes=5 * (i % 3))
                left = shift.ends_at + dt.timedelta(minutes=10 * (i % 2))
                service.check_in(self.session, signup, arrived, manager)
                record = service.check_out(self.session, signup, left, manager)
            self.records += 1
            if months == 1 and spec.key in ("meals", "tutoring"):
                self.pending += 1  # waiting for the organiser
                continue
            service.verify(self.session, record, manager)
            self.verified += 1

    def rejected_and_corrected(self) -> None:
        """Two disputes on the visits of two months ago: hours entered wrong and rejected, then entered right;
        verified hours found too long, reversed and re-entered."""
        spec = next(a for a in ACTIVITIES if a.key == "visits")
        organiser = self.users["organiser"]
        shift = self._shift(spec, month_day(self.today, 2, spec.day + 2))
        first, second = (self.volunteers["zhoumin"], self.volunteers["chenli"])
        wrong = service.enter_hours(self.session, service.sign_up(self.session, first, shift, organiser),
                                    Decimal("8.00"), organiser)
        service.reject(self.session, wrong, REJECT_REASON, organiser)
        right = service.enter_hours(self.session, wrong.signup, Decimal("3.00"), organiser)
        service.verify(self.session, right, organiser)
        signup = service.sign_up(self.session, second, shift, organiser)
        long = service.enter_hours(self.session, signup, Decimal("3.00"), organiser)
        service.verify(self.session, long, organiser)
        fixed = service.correct(self.session, long, CORRECT_REASON, Decimal("2.50"), organiser)
        service.verify(self.session, fixed, organiser)
        self.signups += 2
        self.records += 4
        self.verified += 3

    def upcoming(self) -> None:
        specs = {a.key: a for a in ACTIVITIES}
        for key, days, names in UPCOMING:
            shift = self._shift(specs[key], self.today + dt.timedelta(days=days))
            for name in names:
                volunteer = self.volunteers[name]
                service.sign_up(self.session, volunteer, shift, self.signer(volunteer))
                self.signups += 1

    def report_and_close(self) -> None:
        for spec in ACTIVITIES:
            activity = self.activities[spec.key]
            manage.update_activity(self.session, activity, manage.ActivityInput(
                title=activity.title, description=activity.description, community=activity.community,
                award_id=activity.award_id, organiser_id=activity.organiser_id, people_served=spec.served),
                self._manager(activity))
        manage.set_activity_status(self.session, self.activities["antifraud"], ActivityStatus.closed, self.admin)

    # --- the points exchange --------------------------------------------------------------------------------

    def _gift_day(self) -> dt.date:
        """A day the books leave open: a few days after the last closed month, never after today."""
        locked = lock_date(self.session)
        return min(self.today, (locked or self.today) + dt.timedelta(days=5))

    def in_kind_gift(self) -> Donation:
        donor = self.session.scalar(select(Donor).where(Donor.name == GIFT_DONOR).order_by(Donor.id).limit(1))
        fund = self.session.scalar(select(Fund).where(Fund.code == "GEN"))
        amount, description, quantity, unit = GIFT
        return record_donation(self.session, DonationInput(
            fund=fund, received_on=self._gift_day(), amount=Decimal(amount), method=DonationMethod.in_kind.value,
            donor=donor, purpose="社区时间银行积分兑换", item_description=description, quantity=quantity, unit=unit,
            valuation_basis=ValuationBasis.invoice.value, key=demo_key("gift:time-bank")),
            find_user_by_email(self.session, demo_email("finance")) or self.admin, today=self.today)

    def create_rewards(self, gift: Donation) -> list[Reward]:
        rewards = []
        for name, kind, price, stock, label, unit_value in REWARDS:
            rewards.append(manage.create_reward(self.session, manage.RewardInput(
                name=name, kind=kind, points=Decimal(price), stock=stock, donor_label=label,
                donation_id=gift.id if unit_value is not None else None,
                unit_value=Decimal(unit_value) if unit_value is not None else None), self.admin))
        return rewards

    def exchange(self, rewards: list[Reward]) -> None:
        for n, (name, index, quantity) in enumerate(REDEMPTIONS):
            account = points.volunteer_account(self.session, self.volunteers[name])
            exchange.redeem(self.session, account, rewards[index], quantity, key=demo_key(f"redemption:{n}"),
                            actor=self.admin)
            self.redemptions += 1
        giver = points.volunteer_account(self.session, self.volunteers["sunjg"])
        neighbour = points.person_account(self.session, NEIGHBOUR)
        points.gift_points(self.session, giver, neighbour, GIFTED, key=demo_key("points-gift:neighbour"),
                           memo="孙建国赠予结对探访的独居老人", actor=self.admin)
        haircut = rewards[2]
        exchange.redeem(self.session, neighbour, haircut, 2, key=demo_key("redemption:neighbour"), actor=self.admin)
        self.redemptions += 1

    def certificate(self) -> None:
        first = month_day(self.today, 12, 1).replace(day=1)
        reports.issue_certificate(self.session, self.volunteers["zhaolei"], first, self.today, self.admin)

    def run(self) -> str:
        self.create_users()
        self.create_volunteers()
        self.create_activities()
        for spec in ACTIVITIES:
            for n, months in enumerate(spec.months):
                self.serve(spec, n, months)
        self.rejected_and_corrected()
        self.upcoming()
        self.report_and_close()
        gift = self.in_kind_gift()
        rewards = self.create_rewards(gift)
        self.exchange(rewards)
        self.certificate()
        accounts = self.session.scalars(select(PointAccount)).all()
        held = sum((a.balance for a in accounts if a.is_holder), Decimal("0.00"))
        return (f"time bank: {len(self.volunteers)} volunteers, {len(self.activities)} activities, {self.shifts} "
                f"shifts, {self.signups} sign-ups, {self.records} hour records ({self.verified} verified, "
                f"{self.pending} pending, 1 rejected, 1 corrected), {len(rewards)} rewards, {self.redemptions} "
                f"redemptions, 1 gift of points, 1 certificate, {held} points held")


def load_volunteers(session: Session, today: dt.date, password: str) -> str:
    """Add the time bank to a loaded demo (flush only; the caller commits); nothing if it is already there.
    Returns a summary. Redemptions and the gift of points are dated the real today (the services date them)."""
    if volunteers_loaded(session):
        return "time bank: already loaded"
    return TimeBankStory(session, today, password).run()

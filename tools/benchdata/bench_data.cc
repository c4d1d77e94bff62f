#include "tools/benchdata/bench_data.h"

#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"

namespace xinfang::benchdata {
namespace {

namespace v1 = xinfang::v1;

template <typename T, std::size_t N>
const T& Any(Rng& rng, const T (&items)[N]) {
  return items[rng() % N];
}

// Surnames roughly by frequency (the first ones far more common).
const std::vector<Weighted<std::string>>& Surnames() {
  static const auto* v = new std::vector<Weighted<std::string>>{
      {"王", 72}, {"李", 70}, {"张", 68}, {"刘", 54}, {"陈", 46}, {"杨", 33}, {"黄", 24},
      {"赵", 21}, {"吴", 20}, {"周", 19}, {"徐", 15}, {"孙", 14}, {"马", 13}, {"朱", 13},
      {"胡", 12}, {"郭", 12}, {"何", 10}, {"高", 10}, {"林", 10}, {"罗", 9},  {"郑", 9},
      {"梁", 8},  {"谢", 7},  {"宋", 6},  {"唐", 6},  {"许", 6},  {"韩", 5},  {"冯", 5},
      {"邓", 5},  {"曹", 5},  {"彭", 5},  {"曾", 5},  {"肖", 4},  {"田", 4},  {"董", 4},
      {"潘", 3},  {"袁", 3},  {"蔡", 3},  {"蒋", 3},  {"余", 3},  {"欧阳", 1}, {"司马", 1}};
  return *v;
}

constexpr const char* kGiven[] = {
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
    "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "建国", "志强", "海燕",
    "小红", "国庆", "春梅", "文", "斌", "宇", "浩", "凯", "鹏", "俊", "帆", "欣怡", "子涵"};

// Region codes of the province's cities and districts (first six ID digits).
constexpr const char* kRegions[] = {"110105", "110108", "310104", "320102", "320583",
                                    "330106", "370202", "410105", "420106", "440304",
                                    "440106", "510107", "610113", "130102", "210203"};

constexpr const char* kCities[] = {"A市", "B市", "C市", "D市", "E市", "F市", "G市", "H市"};
constexpr const char* kDistricts[] = {"一区", "二区", "新城区", "高新区", "经开区", "东湖区",
                                      "滨江区", "城南区"};
constexpr const char* kStreets[] = {"人民路", "解放大道", "建设路", "中山路", "长江路",
                                    "工业园路", "和平街", "幸福里", "科技大道", "湖滨路"};
constexpr const char* kBrand[] = {"宏达", "鑫源", "恒通", "华信", "金盛", "永安", "瑞丰",
                                  "东方", "博远", "新世纪", "众诚", "天成"};
constexpr const char* kTrade[] = {"建筑工程", "电子科技", "物流", "餐饮管理", "纺织",
                                  "机械制造", "物业服务", "商贸", "汽车配件", "食品",
                                  "劳务派遣", "家政服务"};
constexpr const char* kOrgKind[] = {"有限公司", "有限责任公司", "股份有限公司", "集团有限公司"};

struct CategoryText {
  std::vector<std::string> summaries;  // {c}: company, {n}: a number, {m}: an amount
  std::vector<std::string> requests;
  std::vector<std::string> facts;
};

const std::map<std::string, CategoryText>& Texts() {
  static const auto* m = new std::map<std::string, CategoryText>{
      {"wages.arrears",
       {{"{c}拖欠{n}个月工资", "{c}拖欠农民工工资共计{m}元", "项目完工后{c}拒不结算工资",
         "{c}以资金紧张为由长期拖欠工资"},
        {"请求督促{c}支付拖欠工资", "请求帮助追讨拖欠工资{m}元", "请求工会协调尽快结清工资"},
        {"本人自去年起在{c}工作，公司已连续{n}个月未发放工资，多次催要无果。",
         "包工头称公司未拨付工程款，{c}推说已付给包工头，双方互相推诿。",
         "公司承诺月底发放，但至今仍未兑现，家中生活困难，孩子学费无法支付。"}}},
      {"wages.overtime",
       {{"{c}长期安排加班不付加班费", "{c}每天工作{n}小时无休息日", "{c}节假日加班未按规定支付报酬"},
        {"请求依法支付加班工资", "请求督促企业执行国家工时制度"},
        {"车间实行两班倒，每班十二小时，每月仅休息两天，加班费按最低标准折算。",
         "公司以综合工时制为由不计加班，但未经劳动部门批准。"}}},
      {"contract.dismissal",
       {{"{c}违法解除劳动合同", "{c}未提前通知即辞退", "怀孕期间被{c}辞退", "{c}以末位淘汰为由解除合同"},
        {"请求恢复劳动关系", "请求支付经济补偿金{m}元", "请求认定解除行为违法"},
        {"本人在{c}工作{n}年，公司以经营调整为由口头通知解除合同，未支付任何补偿。",
         "公司未说明理由，也未通知工会，即停止安排工作并停发工资。"}}},
      {"contract.signing",
       {{"{c}入职{n}个月未签订劳动合同", "{c}强迫签订空白合同", "{c}扣押身份证件"},
        {"请求督促签订书面劳动合同", "请求支付未签合同的二倍工资"},
        {"入职时公司称试用期后再签合同，试用期满后仍以各种理由拖延。"}}},
      {"insurance",
       {{"{c}未依法缴纳社会保险", "{c}按最低基数缴纳社保", "{c}断缴社保{n}个月"},
        {"请求督促补缴社会保险", "请求按实际工资基数缴纳社保"},
        {"查询社保记录发现公司自{n}月起停缴，本人工资中仍每月扣除个人部分。"}}},
      {"safety.injury",
       {{"工伤后{c}拒不申报工伤认定", "{c}拖欠工伤待遇", "在{c}工作期间受伤无人负责"},
        {"请求帮助申请工伤认定", "请求督促支付工伤医疗费{m}元"},
        {"本人在操作机器时右手受伤，住院{n}天，公司只支付了部分医药费。",
         "事故发生后公司否认劳动关系，拒绝提供工伤认定所需材料。"}}},
      {"rights.women",
       {{"{c}降低孕期女职工工资", "{c}不安排产检假", "{c}产假期间停发工资"},
        {"请求保障女职工特殊权益", "请求补发产假工资"},
        {"怀孕后公司将本人调至偏远岗位并降低工资，理由是工作量减少。"}}},
      {"rights.minors",
       {{"{c}招用未成年工从事夜班", "{c}安排未成年工从事危险作业"},
        {"请求依法查处并保护未成年工"},
        {"本人的弟弟今年十七岁，在{c}上夜班，每天工作超过十小时。"}}},
      {"democracy",
       {{"{c}未召开职工代表大会", "{c}改制方案未经职代会审议", "{c}厂务公开流于形式"},
        {"请求督促企业依法召开职代会", "请求公开改制方案"},
        {"公司改制涉及全体职工切身利益，但方案从未提交职工代表大会审议。"}}},
      {"union.retaliation",
       {{"工会主席因维权被{c}调岗降薪", "{c}打击报复工会干部"},
        {"请求上级工会依法维护工会干部权益"},
        {"本人担任工会主席后代表职工与公司协商工资，随即被调离原岗位。"}}},
      {"union.funds",
       {{"{c}未按规定拨缴工会经费", "工会经费使用不公开"},
        {"请求督促企业拨缴工会经费", "请求公开经费使用情况"},
        {"公司工会成立{n}年，从未向会员公布经费收支情况。"}}},
      {"relief",
       {{"家庭因病致困申请帮扶", "单亲困难职工申请救助", "失业后生活困难申请帮扶"},
        {"请求给予困难帮扶", "请求纳入困难职工档案"},
        {"本人患病{n}年，配偶无业，孩子上学，家庭收入低于当地最低生活标准。"}}},
      {"legal_aid",
       {{"劳动争议申请法律援助", "仲裁阶段申请工会法律援助"},
        {"请求提供法律援助律师", "请求代理劳动仲裁"},
        {"与{c}的劳动争议已申请仲裁，本人不懂法律程序，无力聘请律师。"}}},
      {"other",
       {{"反映{c}管理问题", "咨询退休待遇问题", "反映职工食堂卫生问题"},
        {"请求有关部门调查处理", "请求答复"},
        {"多次向公司反映均无回应，特向工会反映。"}}},
  };
  return *m;
}

std::string Fill(Rng& rng, const std::string& tmpl, const std::string& company) {
  return absl::StrReplaceAll(
      tmpl, {{"{c}", company},
             {"{n}", absl::StrCat(Uniform(rng, 2, 11))},
             {"{m}", absl::StrCat(Uniform(rng, 3, 150) * 1000 + Uniform(rng, 0, 9) * 100)}});
}

}  // namespace

int64_t Uniform(Rng& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

bool Chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

const std::vector<Weighted<std::string>>& CategoryWeights() {
  static const auto* v = new std::vector<Weighted<std::string>>{
      {"wages.arrears", 30}, {"wages.overtime", 8}, {"contract.dismissal", 12},
      {"contract.signing", 6}, {"insurance", 10},   {"safety.injury", 8},
      {"rights.women", 4},   {"rights.minors", 1},  {"democracy", 3},
      {"union.retaliation", 1}, {"union.funds", 2}, {"relief", 6},
      {"legal_aid", 5},      {"other", 4}};
  return *v;
}

const std::vector<Weighted<v1::Channel>>& ChannelWeights() {
  static const auto* v = new std::vector<Weighted<v1::Channel>>{
      {v1::CHANNEL_ONLINE, 40}, {v1::CHANNEL_VISIT, 25}, {v1::CHANNEL_CALL, 20},
      {v1::CHANNEL_LETTER, 15}};
  return *v;
}

const std::vector<Weighted<v1::Purpose>>& PurposeWeights() {
  static const auto* v = new std::vector<Weighted<v1::Purpose>>{
      {v1::PURPOSE_CLAIM, 70}, {v1::PURPOSE_APPEAL, 10}, {v1::PURPOSE_SUGGESTION, 8},
      {v1::PURPOSE_ACCUSATION, 7}, {v1::PURPOSE_OTHER, 5}};
  return *v;
}

std::string PersonName(Rng& rng) {
  std::string name = Pick(rng, Surnames());
  name += Any(rng, kGiven);
  if (Chance(rng, 0.3)) name += Any(rng, kGiven);
  return name;
}

std::string ResidentId(Rng& rng) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  const absl::CivilDay birth =
      absl::CivilDay(1955, 1, 1) + Uniform(rng, 0, 50 * 365);  // 1955..2004
  std::string id = absl::StrFormat("%s%04d%02d%02d%03d", Any(rng, kRegions), birth.year(),
                                   birth.month(), birth.day(), Uniform(rng, 0, 999));
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (id[i] - '0') * kWeights[i];
  id += kCheck[sum % 11];
  return id;
}

std::string MobilePhone(Rng& rng) {
  static constexpr const char* kPrefixes[] = {"130", "131", "133", "135", "136", "137", "138",
                                              "139", "150", "151", "158", "159", "177", "180",
                                              "186", "188", "189", "199"};
  return absl::StrFormat("%s%08d", Any(rng, kPrefixes), Uniform(rng, 0, 99999999));
}

std::string Address(Rng& rng) {
  return absl::StrCat(Any(rng, kCities), Any(rng, kDistricts), Any(rng, kStreets),
                      Uniform(rng, 1, 999), "号", Uniform(rng, 1, 30), "栋",
                      Uniform(rng, 101, 2806), "室");
}

std::string Company(Rng& rng) {
  return absl::StrCat(Any(rng, kCities), Any(rng, kBrand), Any(rng, kTrade), Any(rng, kOrgKind));
}

PetitionText Petition(Rng& rng, const std::string& category, const std::string& company) {
  const auto& texts = Texts();
  auto it = texts.find(category);
  const CategoryText& t = it != texts.end() ? it->second : texts.at("other");
  PetitionText out;
  out.summary = Fill(rng, t.summaries[rng() % t.summaries.size()], company);
  out.request = Fill(rng, t.requests[rng() % t.requests.size()], company);
  const int sentences = static_cast<int>(Uniform(rng, 1, 3));
  for (int i = 0; i < sentences; ++i) {
    out.facts += Fill(rng, t.facts[rng() % t.facts.size()], company);
  }
  out.location = absl::StrCat(Any(rng, kCities), Any(rng, kDistricts), Any(rng, kStreets));
  return out;
}

v1::CaseIntake Intake(Rng& rng, absl::Time received_at, const std::string& registering_unit,
                      double anonymous_share) {
  v1::CaseIntake in;
  const v1::Channel channel = Pick(rng, ChannelWeights());
  in.set_channel(channel);
  const int64_t us = absl::ToUnixMicros(received_at);
  in.mutable_received_at()->set_seconds(us / 1000000);
  in.mutable_received_at()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  in.set_registering_unit(registering_unit);
  const bool anonymous = (channel == v1::CHANNEL_ONLINE || channel == v1::CHANNEL_LETTER) &&
                         Chance(rng, anonymous_share * 2.5);
  in.set_anonymous(anonymous);
  const std::string company = Company(rng);
  if (!anonymous) {
    // Mostly one petitioner; visits come in groups now and then.
    int people = 1;
    if (channel == v1::CHANNEL_VISIT && Chance(rng, 0.15)) people = static_cast<int>(Uniform(rng, 2, 4));
    for (int i = 0; i < people; ++i) {
      v1::Petitioner* p = in.add_petitioners();
      p->set_name(PersonName(rng));
      if (Chance(rng, 0.8)) p->set_id_number(ResidentId(rng));
      if (Chance(rng, 0.9)) p->set_phone(MobilePhone(rng));
      if (Chance(rng, 0.5)) p->set_address(Address(rng));
    }
  }
  switch (channel) {
    case v1::CHANNEL_VISIT: {
      const int present = in.petitioners_size() + static_cast<int>(Uniform(rng, 0, 2));
      in.mutable_visit()->set_people_present(present);
      for (int i = 0; i < in.petitioners_size() && i < 5; ++i) {
        in.mutable_visit()->add_representatives(in.petitioners(i).name());
      }
      break;
    }
    case v1::CHANNEL_CALL:
      in.mutable_call()->set_caller_number(
          in.petitioners_size() > 0 && !in.petitioners(0).phone().empty()
              ? in.petitioners(0).phone()
              : MobilePhone(rng));
      in.mutable_call()->set_call_reference(absl::StrFormat("12351-%010d", Uniform(rng, 0, 9999999999)));
      break;
    case v1::CHANNEL_LETTER: {
      const absl::CivilDay day =
          absl::ToCivilDay(received_at, absl::FixedTimeZone(8 * 3600)) - Uniform(rng, 1, 5);
      in.mutable_letter()->set_postmark_date(
          absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day()));
      in.mutable_letter()->set_sender_address(Address(rng));
      in.mutable_letter()->add_scan_references(
          absl::StrFormat("scan/%04d/%08d.pdf", day.year(), Uniform(rng, 0, 99999999)));
      break;
    }
    default: {
      static constexpr const char* kPlatforms[] = {"website", "app", "wechat", "12351"};
      in.mutable_online()->set_platform(Any(rng, kPlatforms));
      in.mutable_online()->set_reference(absl::StrFormat("W%012d", Uniform(rng, 0, 999999999999)));
      break;
    }
  }
  in.set_purpose(Pick(rng, PurposeWeights()));
  in.set_category(Pick(rng, CategoryWeights()));
  PetitionText text = Petition(rng, in.category(), company);
  in.set_summary(text.summary);
  in.set_request(text.request);
  in.set_facts_and_reasons(text.facts);
  in.set_issue_location(text.location);
  in.set_complained_about(company);
  return in;
}

const std::vector<std::string>& DefaultUnits() {
  static const auto* v = new std::vector<std::string>{
      "prov",          "prov.organs",          "prov.organs.office", "prov.organs.edu",
      "prov.organs.health", "prov.organs.transport", "prov.city-a",   "prov.city-a.dist-1"};
  return *v;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    absl::string_view v = absl::StripAsciiWhitespace(line);
    if (v.empty() || v[0] == '#') continue;
    out.emplace_back(v);
  }
  return out;
}

}  // namespace xinfang::benchdata

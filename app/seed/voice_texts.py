# ruff: noqa: E501
"""What the demo voices say: realistic Chinese texts per channel, each with the category and
sentiment a person would give it, and the channel's own fields (batch, order, interviewee…).
Lines are long on purpose: the Chinese sample sentences read better whole than wrapped.

A template is (text, category code, sentiment); `{slots}` are filled by app.seed.voices from
the lists below, and the same values go into the voice's details.
"""

from __future__ import annotations

# product → its models; the platforms are software (never returned)
PRODUCTS = {
    "XR-200 工业网关": ["XR-200A", "XR-200B"],
    "PS-3 电源模块": ["PS-3E", "PS-3H"],
    "CM-60 控制器": ["CM-60L", "CM-60S"],
    "SmartView 监控平台": [],
    "DL-8 数据采集器": ["DL-8S", "DL-8W"],
    "HT-5 温控仪": ["HT-5P"],
    "NetLink 云平台": [],
    "VX-9 变频器": ["VX-9M", "VX-9L"],
}
HARDWARE = [name for name, models in PRODUCTS.items() if models]
ROLES = ["采购经理", "技术总监", "设备主管", "生产经理", "总经理", "IT 负责人", "运维工程师"]
TEAMS = ["现场服务一组", "现场服务二组", "技术支持组", "质量改进小组", "备件保障组", "客户体验组"]
PARTNERS = ["华信系统集成", "东方智联科技", "鼎盛工控", "联达信息", "蓝海自动化"]
SITES = ["一号车间", "二号装配线", "中心机房", "仓储物流中心", "污水处理站", "变电所"]
AGENCIES = ["零点有数", "益普索（中国）", "尼尔森IQ", "赛立信研究", "新生代市场监测"]

TEMPLATES: dict[str, list[tuple[str, str, str]]] = {
    "hotline": [
        (
            "客户来电反映{product}运行中频繁重启，影响产线生产，希望尽快派工程师到现场。",
            "product_quality",
            "negative",
        ),
        (
            "客户致电询问{product}固件升级方法，坐席已在电话中指导完成升级。",
            "product_function",
            "neutral",
        ),
        (
            "客户来电投诉报修两天无人联系，情绪较激动，要求今天给出明确答复。",
            "response_speed",
            "negative",
        ),
        (
            "客户来电表示上周上门的工程师专业、耐心，问题一次解决，特别表示感谢。",
            "service_attitude",
            "positive",
        ),
        ("客户来电反映发票抬头开错，需要重开增值税专用发票。", "billing", "negative"),
        ("客户来电催问备件到货时间，{product}停机等待备件已经三天。", "spare_parts", "negative"),
        (
            "客户来电咨询{product}与现有 MES 系统的接口对接方式，已转技术支持跟进。",
            "product_function",
            "neutral",
        ),
        ("客户来电反映热线排队时间太长，等了十几分钟才接通。", "response_speed", "negative"),
    ],
    "service_request": [
        (
            "服务请求：订单 {order_no} 的{product}已到货，申请上门安装调试，希望本周内完成。",
            "installation",
            "neutral",
        ),
        (
            "服务请求：订单 {order_no} 的{product}到货后无法联网，请求远程支持。",
            "installation",
            "negative",
        ),
        (
            "服务请求：申请为{product}操作人员安排一次现场培训，约 {n} 人参加。",
            "training",
            "neutral",
        ),
        (
            "服务请求：{product}年度巡检，客户要求提供巡检报告模板和上次巡检记录。",
            "documentation",
            "neutral",
        ),
        ("服务请求：订单 {order_no} 交付延期，客户请求确认新的到货日期。", "delivery", "negative"),
        ("服务请求：{product}需要更换风扇组件，请安排备件和工程师。", "spare_parts", "neutral"),
    ],
    "sales_report": [
        (
            "销售周报：客户签订{product}采购订单 {order_no}，金额 {amount} 元，对报价响应速度满意。",
            "response_speed",
            "positive",
        ),
        (
            "销售周报：订单 {order_no}（{product}，{amount} 元）客户反映价格高于竞品约 {pct}%，要求重新报价。",
            "billing",
            "negative",
        ),
        (
            "销售周报：客户追加{product}订单 {order_no}，金额 {amount} 元，认可我司交付能力。",
            "delivery",
            "positive",
        ),
        (
            "销售周报：客户暂缓订单 {order_no}（{amount} 元），原因是{product}缺少批量导入功能。",
            "product_function",
            "negative",
        ),
        (
            "销售周报：客户在招标中选择我司{product}，订单 {order_no} 金额 {amount} 元，品牌口碑是主要原因。",
            "brand_image",
            "positive",
        ),
    ],
    "return": [
        (
            "退货登记：{product}（型号 {model}，批次 {batch}）{n} 台开箱即无法上电，原因代码 {reason_code}。",
            "product_quality",
            "negative",
        ),
        (
            "退货登记：{product}（型号 {model}，批次 {batch}）运输途中外壳破损 {n} 台，原因代码 {reason_code}。",
            "delivery",
            "negative",
        ),
        (
            "退货登记：客户收到的型号 {model} 与订单不符，{n} 台{product}退回换货，原因代码 {reason_code}。",
            "delivery",
            "negative",
        ),
        (
            "退货登记：{product}（批次 {batch}）连续运行后温升超标，{n} 台退回检测，原因代码 {reason_code}。",
            "product_quality",
            "negative",
        ),
        (
            "退货登记：{product}（型号 {model}，批次 {batch}）客户报故障，退回检测未发现问题，原因代码 {reason_code}。",
            "product_quality",
            "neutral",
        ),
    ],
    "web": [
        (
            "官网留言：{product}说明书里的接线图和实物端子不一致，安装时差点接错。",
            "documentation",
            "negative",
        ),
        ("官网留言：在线客服晚上没人回复，希望延长服务时间。", "response_speed", "negative"),
        ("官网留言：新版{product}管理界面比以前好用多了，点赞！", "product_function", "positive"),
        ("官网留言：希望提供{product}中英文操作手册的下载。", "documentation", "neutral"),
        ("官网留言：物流信息一周没更新，订单到底发货了没有？", "delivery", "negative"),
        ("官网留言：工程师上门很准时，处理问题很快，服务很专业。", "service_attitude", "positive"),
    ],
    "interview": [
        (
            "客户访谈（{interviewee}，{interviewee_role}）：对{product}稳定性总体满意，但希望缩短备件供货周期。",
            "spare_parts",
            "neutral",
        ),
        (
            "客户访谈（{interviewee}，{interviewee_role}）：认为我司响应速度比去年明显提升，愿意继续合作。",
            "response_speed",
            "positive",
        ),
        (
            "客户访谈（{interviewee}，{interviewee_role}）：账单明细不清晰，财务对账很困难。",
            "billing",
            "negative",
        ),
        (
            "客户访谈（{interviewee}，{interviewee_role}）：希望增加针对新员工的{product}培训课程。",
            "training",
            "neutral",
        ),
        (
            "客户访谈（{interviewee}，{interviewee_role}）：对品牌认可度高，但觉得售后流程环节太多。",
            "brand_image",
            "neutral",
        ),
    ],
    "problem_team": [
        (
            "问题处理团队反馈（{team}）：{product}同类故障本月已出现 {n} 起，疑似批次性问题，建议质量部介入。",
            "product_quality",
            "negative",
        ),
        (
            "问题处理团队反馈（{team}）：客户现场网络环境复杂，{product}调试反复，需要标准化调试指引。",
            "installation",
            "negative",
        ),
        (
            "问题处理团队反馈（{team}）：客户对处理进度每日通报表示认可。",
            "service_attitude",
            "positive",
        ),
        (
            "问题处理团队反馈（{team}）：备件库存不足导致 {n} 个工单等待，建议调整安全库存。",
            "spare_parts",
            "negative",
        ),
    ],
    "survey": [
        (
            "满意度调查开放题：整体满意，希望工程师上门前能提前电话确认时间。",
            "service_attitude",
            "neutral",
        ),
        ("满意度调查开放题：响应很快，问题一次解决，给满分。", "response_speed", "positive"),
        ("满意度调查开放题：产品质量不稳定，半年内维修了三次。", "product_quality", "negative"),
        ("满意度调查开放题：培训资料太简单，希望有进阶课程。", "training", "negative"),
        ("满意度调查开放题：对账单和发票流程满意。", "billing", "positive"),
    ],
    "partner_interview": [
        (
            "合作伙伴访谈（{partner}，{interviewee}，{interviewee_role}）：渠道备件价格偏高，影响终端报价竞争力。",
            "billing",
            "negative",
        ),
        (
            "合作伙伴访谈（{partner}，{interviewee}，{interviewee_role}）：希望提供更多{product}的技术认证培训。",
            "training",
            "neutral",
        ),
        (
            "合作伙伴访谈（{partner}，{interviewee}，{interviewee_role}）：终端客户对我司品牌认可度高，项目推进顺利。",
            "brand_image",
            "positive",
        ),
        (
            "合作伙伴访谈（{partner}，{interviewee}，{interviewee_role}）：交付排期经常变动，难以向客户承诺时间。",
            "delivery",
            "negative",
        ),
    ],
    "observation": [
        (
            "现场观察（{site}）：操作员绕过{product}报警功能手动运行，存在安全隐患，需要加强培训。",
            "training",
            "negative",
        ),
        (
            "现场观察（{site}）：设备安装位置通风不良，{product}机柜温度偏高。",
            "installation",
            "negative",
        ),
        (
            "现场观察（{site}）：客户已把{product}作为产线标准配置，运行记录完整。",
            "product_quality",
            "positive",
        ),
        (
            "现场观察（{site}）：客户自己编了{product}操作卡片，说明官方手册不够直观。",
            "documentation",
            "neutral",
        ),
    ],
    "market_research": [
        (
            "市场调研报告（{agency}，样本 {sample_size}）：{product}在本区域的品牌认知度为 {pct}%，较去年提升 {d} 个百分点。",
            "brand_image",
            "positive",
        ),
        (
            "市场调研报告（{agency}，样本 {sample_size}）：主要竞品同类{product}价格下降约 {d}%，价格敏感客户占比上升。",
            "billing",
            "negative",
        ),
        (
            "市场调研报告（{agency}，样本 {sample_size}）：客户最看重交付及时性、售后响应速度和产品稳定性。",
            "response_speed",
            "neutral",
        ),
        (
            "市场调研报告（{agency}，样本 {sample_size}）：{pct}% 的受访客户希望提供{product}远程运维服务。",
            "product_function",
            "neutral",
        ),
    ],
}

# the reason code each return sentence describes, in the order of TEMPLATES["return"]:
# dead on arrival, damaged in transport, wrong model, performance, no fault found
RETURN_TEMPLATE_REASONS = ["DOA", "DMG", "WRONG", "PERF", "NFF"]

# how a voice that raised an issue reads, by the channel ({title} is the issue's)
RAISED = {
    "hotline": "客户来电：{title}。客户希望尽快处理并回电告知进展。",
    "service_request": "服务请求：{title}，请安排处理。",
    "web": "官网留言：{title}，请尽快联系我。",
    "problem_team": "问题处理团队反馈：{title}，需要立项跟踪。",
    "interview": "客户访谈中提到：{title}，客户希望有专人负责。",
}
REPEAT_PREFIX = [
    "客户再次反映：",
    "同一问题第二次来电：",
    "客户追问进展：",
    "客户又一次提到：",
]

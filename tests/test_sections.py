"""Lists under a heading, read from whole documents (no model, no index)."""

from assistant.pipeline.sections import read_sections


def _texts(lines: list[str]) -> list[list[str]]:
    return [[item.text for item in s.items] for s in read_sections("doc", lines)]


def test_wingdings_items_keep_their_level_and_leave_sub_points_out():
    lines = [
        "【国の施策】",
        "\uf06c 施策の複雑性",
        "",
        "\uf0d8 複数の省庁が施策を展開しているものの、",
        "整理されていない。",
        "",
        "\uf06c 実証事業の限界",
        "\uf0d8 実装まで進んでいない。",
        "\uf06c 特区利用に対するハードル",
        "【調査方法】",
        "アンケート調査を実施。",
    ]
    assert _texts(lines) == [["施策の複雑性", "実証事業の限界", "特区利用に対するハードル"]]
    section = read_sections("doc", lines)[0]
    assert (section.heading_line, section.items[1].line_start, section.items[1].line_end) == (1, 7, 7)


def test_numbered_items_with_their_paragraphs_stop_at_the_next_heading():
    lines = [
        "（２）制度枠組み",
        "① 規制の特例措置の提案",
        "",
        "民間事業者や地方公共団体を始めとして幅広く受け付け。",
        "",
        "② 特区計画の認定",
        "地方公共団体が計画を作成し、内閣総理大臣が認定。",
        "",
        "③ 規制の特例措置の評価",
        "",
        "（３）経緯",
        "① 別の話",
    ]
    assert _texts(lines)[0] == ["規制の特例措置の提案", "特区計画の認定", "規制の特例措置の評価"]


def test_a_wrapped_item_is_joined_and_a_short_unmarked_list_is_read_under_a_list_noun():
    lines = [
        "(主な連携内容)",
        "- ① 合同での**事業説明会を開催**",
        "- ② 双方の事業の応募状況、採択結果等の共有（相互の事業担",
        "当者の併任により実現）",
        "",
        "地域バイオコミュニティの要件",
        "",
        "世界で通用しうる「強み」",
        "",
        "調整・連携機能等を担うネットワーク機関",
        "",
        "主要な主体（研究開発機関、地元企業・",
        "農林漁業者、自治体等）とキーパーソン",
    ]
    first, second = _texts(lines)
    assert first == [
        "合同での**事業説明会を開催**",
        "双方の事業の応募状況、採択結果等の共有（相互の事業担当者の併任により実現）",
    ]
    assert second[-1] == "主要な主体（研究開発機関、地元企業・農林漁業者、自治体等）とキーパーソン"


def test_a_lead_in_announces_labelled_paragraphs_and_ordinal_paragraphs():
    lines = [
        "以下の大学及び自治体からヒアリングを行った。",
        "",
        "（浜松市）",
        "産学官で共有できるビジョンを打ち出した。",
        "（高知大学）",
        "人材育成の持続的な取組が行われている。",
        "",
        "具体的対応は、以下の２点にまとめられる。",
        "第１に、部局横断の連携体制の構築である。続く説明。",
        "",
        "第 2 に、学長直轄の組織において実現することである。",
    ]
    labels, ordinals = _texts(lines)
    assert labels == ["（浜松市）", "（高知大学）"]
    assert ordinals == [
        "第１に、部局横断の連携体制の構築である。",
        "第 2 に、学長直轄の組織において実現することである。",
    ]


def test_running_text_and_a_title_like_line_are_no_list():
    lines = ["地域の産学官連携について", "本文が続く長い段落であり、項目ではない。", "さらに段落が続く。"]
    assert _texts(lines) == []


def test_a_lead_in_over_headed_lists_is_their_context_while_they_share_a_bullet():
    lines = [
        "\uf06e 関係者から抽出した論点は以下の通り",
        "【人材】",
        "\uf06c 評価が低い",
        "\uf06c 採用が困難",
        "【国の施策】",
        "\uf06c 施策の複雑性",
        "\uf06c 実証事業の限界",
        "【調査方法】",
        "○アンケートを実施",
        "○結果を集計",
    ]
    contexts = {s.heading: s.context for s in read_sections("doc", lines)}
    assert contexts["【国の施策】"] == "関係者から抽出した論点は以下の通り 【国の施策】"
    assert contexts["【人材】"].startswith("関係者から抽出した論点")
    assert contexts["【調査方法】"] == "【調査方法】"  # another bullet: another part of the document


def test_a_lead_in_that_wraps_onto_the_next_line_keeps_its_items():
    lines = [
        "\uf06c 審査の際には、下記事業への参",
        "画状況に応じて加点を実施",
        "\uf0d8 関連事業マップ記載の各府省施策",
        "\uf0d8 地域を中心とした座組",
        "",
        "次の段落。",
    ]
    (section,) = read_sections("doc", lines)
    assert section.heading == "審査の際には、下記事業への参"
    assert [item.text for item in section.items] == ["関連事業マップ記載の各府省施策", "地域を中心とした座組"]

"""The evaluation metrics (pure functions) and one small end-to-end run over real aeb pages."""
from __future__ import annotations

import io
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import orjson
import pytest

from tools.evaluate import leader_metrics, main, norm_name, score_leaders, token_f1, tokens

AEB_DIR = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "aeb"


def test_tokens_are_lowercased_word_runs():
    assert tokens("Hello, World! it's 2019") == ["hello", "world", "it", "s", "2019"]


def test_token_f1_known_answers():
    assert token_f1("the cat sat", "the cat sat") == 1.0
    assert token_f1("", "") == 1.0
    assert token_f1("dog", "the cat") == 0.0
    assert token_f1("", "the cat") == 0.0
    # pred {the:2, cat:1}, truth {the:1, cat:1, sat:1}: overlap 2, P 2/3, R 2/3
    assert token_f1("The the cat", "the cat sat") == pytest.approx(2 / 3)
    # pred {a:1}, truth {a:1, b:1, c:1}: P 1, R 1/3 -> F1 0.5
    assert token_f1("A", "a b c") == pytest.approx(0.5)


def test_norm_name_strips_case_and_diacritics():
    assert norm_name("  Andrés Manuel  LÓPEZ Obrador ") == "andres manuel lopez obrador"


def _pred(qid, name):
    return {"qid": qid, "name": name, "surfaces": [name]}


def test_score_by_wikidata_id_with_duplicates_ignored():
    labels = [{"name": "Donald Trump", "wikidata": "Q22686"}, {"name": "Narendra Modi", "wikidata": "Q1058"}]
    score = score_leaders([_pred("Q22686", "Donald Trump"), _pred("Q22686", "Donald Trump"), _pred("Q21001", "Moon Jae-in")], labels)
    assert (score.tp, score.fp, score.fn) == (1, 1, 1)
    assert [m["name"] for m in score.false_pos] == ["Moon Jae-in"]
    assert [m["name"] for m in score.false_neg] == ["Narendra Modi"]


def test_uncertain_labels_count_neither_way():
    labels = [{"name": "Umar", "wikidata": "Q8476", "uncertain": True},
              {"name": "Abu Bakr", "wikidata": None, "uncertain": True}]
    score = score_leaders([_pred("Q8476", "Umar"), _pred("Q1000", "Abu Bakr")], labels)
    assert (score.tp, score.fp, score.fn) == (0, 0, 0)  # predicted or not, no effect
    assert (score_leaders([], labels).fn, score_leaders([], labels).tp) == (0, 0)


def test_null_wikidata_labels_match_by_name():
    labels = [{"name": "Evo Morales", "wikidata": None}, {"name": "Mahmoud Ahmadinejad", "wikidata": None}]
    score = score_leaders([_pred("Q42410", "Évo MORALES"), _pred("Q17995110", "Jimmy Morales")], labels)
    assert (score.tp, score.fp, score.fn) == (1, 1, 1)
    assert score.false_neg[0]["name"] == "Mahmoud Ahmadinejad"


def test_micro_average_and_named_recall():
    pages = [
        score_leaders([_pred("Q1", "A"), _pred("Q9", "Z")], [{"name": "A", "wikidata": "Q1"}]),
        score_leaders([], [{"name": "B", "wikidata": "Q2"}, {"name": "C", "wikidata": "Q3", "role_only": True}]),
        score_leaders([_pred("Q3", "C")], [{"name": "C", "wikidata": "Q3", "role_only": True}]),
    ]
    total = pages[0]
    for page in pages[1:]:
        total.add(page)
    m = leader_metrics(total)
    assert (m["leader_tp"], m["leader_fp"], m["leader_fn"], m["role_only_labels"]) == (2, 1, 2, 2)
    assert m["leader_precision"] == pytest.approx(2 / 3)
    assert m["leader_recall"] == pytest.approx(2 / 4)
    assert m["leader_f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert m["leader_recall_named"] == pytest.approx(1 / 2)  # A found, B missed; C (role only) left out


def test_metrics_undefined_without_counts():
    m = leader_metrics(score_leaders([], []))
    assert m["leader_precision"] is None and m["leader_recall"] is None and m["leader_f1"] is None


@pytest.mark.skipif(not AEB_DIR.is_dir(), reason="the shared aeb corpus is not present")
@pytest.mark.slow
def test_eval_over_five_aeb_pages(tmp_path):
    truth = [orjson.loads(line) for line in (AEB_DIR / "truth.jsonl").read_bytes().splitlines() if line.strip()]
    labels = {row["id"]: row for row in map(orjson.loads, (AEB_DIR / "leaders.jsonl").read_bytes().splitlines())}
    chosen = [row for row in truth if labels[row["id"]]["leaders"]][:3] + [row for row in truth if not labels[row["id"]]["leaders"]][:2]
    for row in chosen:
        shutil.copy(AEB_DIR / f"{row['id']}.html.gz", tmp_path)
    (tmp_path / "truth.jsonl").write_bytes(b"\n".join(orjson.dumps(row) for row in chosen))
    (tmp_path / "leaders.jsonl").write_bytes(b"\n".join(orjson.dumps(labels[row["id"]]) for row in chosen))

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--corpus", str(tmp_path), "--details"]) == 0
    result = orjson.loads(out.getvalue().strip().splitlines()[-1])
    assert (result["pages"], result["pages_with_truth"], result["pages_with_labels"]) == (5, 5, 5)
    for key in ("text_f1", "text_f1_trafilatura_baseline", "leader_precision", "leader_recall", "leader_f1", "leader_recall_named"):
        assert 0.0 <= result[key] <= 1.0, key
    assert result["docs_per_s"] > 0 and result["clean_docs_per_s"] > 0

"""The single-message corpus through the offline generator: ≥ 95% read right, no dangerous misread.
Run with `-s` to see the table by category."""

from __future__ import annotations

from ordering.agent.commands import DialogueContext, command_to_dict
from ordering.agent.understand import OfflineGenerator
from ordering.evaluation.messages import commands_match, demo_lexicon, evaluate_messages, load_messages


def test_corpus_is_large_and_well_formed():
    cases = load_messages()
    assert len(cases) >= 300
    assert len({case.category for case in cases}) >= 15


def test_offline_generator_reads_the_corpus():
    lexicon = demo_lexicon()
    report = evaluate_messages(OfflineGenerator(lexicon), lexicon)
    print()
    print(report.table())
    for result in report.failures:
        print(f"MISS [{result.case.category}] {result.case.text!r}: {list(result.actual)} {list(result.dangers)}")
    assert not report.dangerous, [(r.case.text, r.dangers) for r in report.dangerous]
    assert report.accuracy >= 0.95


def test_matching_rule_is_strict_where_it_matters():
    lexicon = demo_lexicon()
    expected = [{"kind": "add_items", "items": [{"product_ids": ["prod_blue_runner"], "size": "42"}]}]
    right = [{"kind": "add_items", "items": [{"product_ids": ["prod_blue_runner"], "size": "42", "category": "x"}]}]
    assert commands_match(expected, right, lexicon)
    # An unlisted quantity means one; a quantity said differently is a miss.
    wrong_quantity = [
        {"kind": "add_items", "items": [{"product_ids": ["prod_blue_runner"], "size": "42", "quantity": 2}]}
    ]
    assert not commands_match(expected, wrong_quantity, lexicon)
    # An extra Confirm is a miss.
    assert not commands_match(expected, [*right, {"kind": "confirm"}], lexicon)
    # cat: expands to the category's products.
    category = [{"kind": "add_items", "items": [{"product_ids": ["cat:hoodies"]}]}]
    hoodies = [{"kind": "add_items", "items": [{"product_ids": ["prod_zip_hoodie", "prod_pullover_hoodie"]}]}]
    assert commands_match(category, hoodies, lexicon)


def test_a_generator_that_always_confirms_is_caught_as_dangerous():
    from ordering.agent.commands import Confirm

    class Reckless:
        def generate(self, *, text, context):
            return [Confirm()]

    lexicon = demo_lexicon()
    report = evaluate_messages(Reckless(), lexicon)
    assert report.accuracy < 0.2
    assert len(report.dangerous) > 200
    assert command_to_dict(Confirm()) == {"kind": "confirm"}


def test_items_said_per_person_count_as_the_one_item_of_their_total():
    """ "one for me one for my bro" read as one item each with its person orders what one item of two orders (the
    shop holds one line); a different total, or items without their persons, are still misses."""
    from ordering.agent.commands import AddItems, ItemSpec
    from ordering.evaluation.messages import MessageCase

    def per_person(*counts: int):
        class Reader:
            def generate(self, *, text, context):
                people = ["me", "brother", "sister"]
                return [AddItems(items=tuple(
                    ItemSpec(product_ids=("prod_tech_tee",), colour="blue", size="M", quantity=count, person=who)
                    for count, who in zip(counts, people, strict=False)
                ))]  # fmt: skip

        return Reader()

    expected = ({"kind": "add_items", "items": [{"product_ids": ["prod_tech_tee"], "colour": "blue", "size": "M",
                                                  "quantity": 2}]},)  # fmt: skip
    case = MessageCase(text="tech tee blue M, one for me one for my bro", category="numbers", context=DialogueContext(),
                       expected=(expected,))  # fmt: skip
    lexicon = demo_lexicon()
    assert evaluate_messages(per_person(1, 1), lexicon, [case]).accuracy == 1.0
    assert evaluate_messages(per_person(1, 2), lexicon, [case]).accuracy == 0.0
    assert evaluate_messages(per_person(1, 1, 1), lexicon, [case]).accuracy == 0.0

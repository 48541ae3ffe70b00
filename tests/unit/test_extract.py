"""Identifier extraction: canonical forms, context words in three languages, distractors refused."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from triage.extract.extras import extract_extras, isin_valid
from triage.extract.identifiers import extract
from triage.mail.parse import parse

ACCOUNTS = [
    ("My account is U1234567", ["U1234567"]),
    ("account u1234567 and U-7654321, also U 2345678", ["U1234567", "U7654321", "U2345678"]),
    ("счёт У3456789, paper DU123456, advisor F12345678 and DF7654321", ["U3456789", "DU123456", "F12345678", "DF7654321"]),
    ("U12345 is too short and U123456789 too long", []),
]
ORDERS = [
    ("order 123456789 was rejected", "en", ["123456789"]),
    ("Order #88123456 and 88123457 both filled", "en", ["88123456", "88123457"]),
    ("perm id 1839204771 stuck", "en", ["1839204771"]),
    ("la orden N° 5582013467 figura como pendiente", "es", ["5582013467"]),
    ("заявка №774411223 отклонена, ордер 991122334 тоже", "ru", ["774411223", "991122334"]),
    ("moya zayavka 55123071 visit", "ru", ["55123071"]),
]
DISTRACTORS = [
    "Call me at +7 916 123-45-67 or 9161234567, ticket #4471923, case CS-2026-004211",
    "IBAN ES91 2100 0418 4502 0005 1332, CLABE 002180700123456789, DNI 12345678Z",
    "I sent 150000 USD on 03.11.2025 and 1 500 000 руб. to strike 190",
    "Ваше обращение 5531208 закрыто; паспорт 4510 123456",
]


@pytest.mark.parametrize(("text", "expected"), ACCOUNTS)
def test_account_ids_in_every_written_form(text, expected):
    """U/DU/F/DF with 6-8 digits, spaced, hyphenated, lower case or Cyrillic У, in canonical form."""
    assert list(extract("", text, "en").account_ids) == expected


@pytest.mark.parametrize(("text", "language", "expected"), ORDERS)
def test_order_ids_need_an_order_word(text, language, expected):
    """A 6-12 digit number is an order id when the client presents it as one, lists included."""
    assert list(extract("", text, language).order_ids) == expected


@pytest.mark.parametrize("text", DISTRACTORS)
def test_distractors_are_never_identifiers(text):
    """Phones, tickets, IBAN, CLABE, DNI, amounts, dates and case numbers give nothing."""
    found = extract("", text, "en")
    assert not (found.account_ids or found.order_ids or found.execution_ids or found.transaction_ids)


def test_transaction_references_and_execution_ids():
    """References presented as such are transaction ids; execution ids are lower-cased."""
    found = extract("Wire ref: 20251104003381", "номер перевода 99410372, exec 0000E0D5.6553A1B2.01.01", "ru")
    assert list(found.transaction_ids) == ["20251104003381", "99410372"]
    assert list(found.execution_ids) == ["0000e0d5.6553a1b2.01.01"]


def test_every_identifier_says_which_rule_found_it():
    """Agents see why a number was taken for an order id."""
    found = extract("", "order 123456789 on U1234567", "en")
    assert {(f.kind, f.value) for f in found.found} == {("order", "123456789"), ("account", "U1234567")}
    assert all(f.rule.startswith(f.kind) for f in found.found)


VOIDED = [
    ("Re: Order problem [ticket #6123409]", "the order is still open", "en", "order_ids"),
    ("Re: заявка отклонена [обращение 7712093]", "снова отклонили", "ru", "order_ids"),
    ("Transfer", "transfer from my old broker account (number 55012399) please", "en", "transaction_ids"),
    ("Order", "my order, call me at phone 9161234567", "en", "order_ids"),
]


@pytest.mark.parametrize(("subject", "text", "language", "kind"), VOIDED)
def test_a_ticket_phone_or_bank_account_word_nearer_the_number_voids_the_match(subject, text, language, kind):
    """The desk's ticket numbers and other numbers named as such sit next to order words."""
    assert getattr(extract(subject, text, language), kind) == ()


def test_bulleted_list_under_an_order_header():
    """"These orders were rejected:" followed by one number per bullet line."""
    text = ("Hi, these orders were rejected today:\n1. 4410293381 - buy 20 SIE\n2) 4410293390 sell 5 ALV\n"
            "- 4410293402: buy 7 BAS\n\nThe reason shown was margin. Case 55120934 is open.")
    assert list(extract("", text, "en").order_ids) == ["4410293381", "4410293390", "4410293402"]
    ru = "Не исполнены заявки:\n— 7710029381 покупка\n— 7710029399 продажа"
    assert list(extract("", ru, "ru").order_ids) == ["7710029381", "7710029399"]


def test_a_list_ends_at_the_first_line_that_is_not_an_item():
    text = "Orders affected:\n- 3320019481\nThanks, my phone is\n- 9161234567"
    assert list(extract("", text, "en").order_ids) == ["3320019481"]


def test_a_reference_that_goes_on_with_letters_is_not_an_identifier():
    found = extract("", "their transfer reference is 20251103-ACT-77120; my transfer reference is 450912337", "en")
    assert list(found.transaction_ids) == ["450912337"]


def test_an_account_under_a_bare_name_signature_does_not_count():
    """People sign with their name alone, then the full name and account lines."""
    message = EmailMessage()
    message["Subject"] = "Fee question"
    message["From"] = "client@example.net"
    message.set_content("Why was I charged 10 USD for market data?\n\nMarta\nMarta Oliveira\nAccount: U6610293\n")
    email = parse(message.as_bytes())
    assert extract(email.normalized_subject, email.new_text, "en").account_ids == ()
    assert "Why was I charged" in email.new_text


TABLES = [
    "Copied from TWS:\nTime\tSymbol\tSide\tQty\tOrder ID\n14:02:11\tMSFT\tBOT\t10\t5520018833\n"
    "14:05:40\tMSFT\tSLD\t10\t5520018871\n\nwhy two fills?",
    "Trades:\n\nTime      Symbol  Qty   Price    ID заявки\n10:01:00  SBER    10    301.2    5520018833\n"
    "10:09:12  GAZP    20    140.05   5520018871\n",
    '"ClientAccountID","Symbol","IBOrderID","Quantity"\n"U6620193","AAPL","5520018833","5"\n'
    '"U6620193","AAPL","5520018871","5"\n',
]


@pytest.mark.parametrize("text", TABLES)
def test_order_id_column_of_a_pasted_table(text):
    """Tab, space-aligned and CSV tables: the numbers in the order-id column are orders."""
    assert list(extract("", text, "en").order_ids) == ["5520018833", "5520018871"]


def test_a_table_without_an_order_column_gives_no_orders():
    text = "Time\tSymbol\tQty\tPhone\n14:02:11\tMSFT\t10\t5520018833\n"
    assert extract("", text, "en").order_ids == ()


def test_english_id_is_one_word_and_a_trade_with_its_id_is_an_order():
    """spaCy's English tokenizer reads "id" as "I'd"; ours keeps it whole."""
    found = extract("", "withdrawal id 88120934 failed; my buy (id 4410982231) too; ord. no 4410982240", "en")
    assert list(found.transaction_ids) == ["88120934"]
    assert list(found.order_ids) == ["4410982231", "4410982240"]


def test_a_request_to_withdraw_is_a_transaction_not_an_order():
    found = extract("", "zayavka na vyvod 77019283 visit uzhe nedelyu, заявка на вывод № 77019299 тоже", "ru")
    assert list(found.transaction_ids) == ["77019283", "77019299"] and found.order_ids == ()


def test_digits_inside_a_lettered_reference_are_not_identifiers():
    found = extract("", "bank reference: HSBC-20251009-0087712, withdrawal reference 6610293", "en")
    assert list(found.transaction_ids) == ["6610293"]


def test_pasted_json_and_glued_lists_are_read_value_by_value():
    found = extract("", '{"orderId":6620193317,"permId":1730029911,"execId":"0000F1A2.6553B1C2.01.01"} '
                        "and order 6620193318/6620193319, Order No.6620193320", "en")
    assert list(found.order_ids) == ["6620193317", "1730029911", "6620193318", "6620193319", "6620193320"]
    assert list(found.execution_ids) == ["0000f1a2.6553b1c2.01.01"]


def test_an_operation_is_a_trade_unless_a_bank_transfer_is_being_told():
    trade = extract("", "En la operación 7730192284 (venta de 200 YPF) me cobraron dos veces.", "es")
    bank = extract("", "El banco me dio un comprobante de la transferencia con el número de operación 7730192291.", "es")
    assert list(trade.order_ids) == ["7730192284"] and not trade.transaction_ids
    assert list(bank.transaction_ids) == ["7730192291"] and not bank.order_ids


def test_pasted_order_lines_and_numbered_lists():
    text = ("Rejected, all of them:\n\n5530192281 buy 40 ARM lmt 121\n5530192290  SLD 10 SMCI\n\n"
            "по следующим ордерам:\n№ 5530192301 — 02.06\n№ 5530192318 — 03.06")
    assert list(extract("", text, "ru").order_ids) == ["5530192281", "5530192290", "5530192301", "5530192318"]


def test_a_number_named_after_the_order_was_told():
    """"...the order was rejected. Number: 1870045512": the kind is told a sentence earlier."""
    found = extract("", "The sell order was rejected again. Number: 6610928831. My routing number 021000021.", "en")
    assert list(found.order_ids) == ["6610928831"] and not found.transaction_ids


def test_execution_ids_glued_into_pasted_data():
    found = extract("", "U5550871,AAPL,BOT,300,189.44,0000E0D5.6553A1B2.01.01,20240610 and 35=8|17=0000c1d4.667a0b12.01.01|55=ZN",
                    "en")
    assert list(found.execution_ids) == ["0000e0d5.6553a1b2.01.01", "0000c1d4.667a0b12.01.01"]


def test_in_a_mail_about_orders_a_bare_number_is_one_more_order():
    """"the other one, 5512093377, filled" - but dates, round quantities and identity numbers stay out."""
    text = ("order 5512093366 was not filled at my limit. the other one i sent with it, 5512093377, filled. "
            "statement 20250314, quantity 1000000, my cédula 1020456789, call me 9161234567")
    assert list(extract("", text, "en").order_ids) == ["5512093366", "5512093377"]


def test_a_mail_with_no_order_or_transfer_keeps_its_bare_numbers_out():
    assert extract("", "my DNI is 12345678, the other number 5512093377 is my old one", "es") == extract("", "", "es")


def test_a_bare_number_explained_after_it_and_one_named_a_ticket_elsewhere():
    """"7719002315 - this is the order I mean"; the case number in the subject is a case everywhere."""
    found = extract("#88120933", "7719002315 - this is the order I mean. Re my case #88120933, "
                                 "call 89161234567 on 20250314", "en")
    assert list(found.order_ids) == ["7719002315"] and not found.transaction_ids


def test_signature_and_quoted_history_do_not_count():
    """An account in the signature and an order in the quoted reply are not the client's new request."""
    message = EmailMessage()
    message["Subject"] = "Re: withdrawal"
    message["From"] = "client@example.net"
    message.set_content("Hello, my withdrawal is late.\n\nBest regards,\nAnna Berg\nAccount U7654321\n\n"
                        "On Mon, 3 Nov 2025 at 10:12, Desk <support@desk.example> wrote:\n"
                        "> Your order 123456789 was filled. Ticket #4471923\n")
    email = parse(message.as_bytes())
    found = extract(email.normalized_subject, email.new_text, "en")
    assert not found.account_ids and not found.order_ids


def test_extras_tickers_options_isins_amounts():
    """Tickers and option contracts as written, valid ISINs only, amounts normalised with currency."""
    extras = extract_extras("Bought 100 AAPL shares, hold AAPL 190 calls 21 Nov; ISIN US0378331005 "
                            "(not US0378331006). Sent 1.500,00 EUR, $3k and 15 000 руб.")
    assert extras.tickers == ("AAPL",)
    assert extras.options == ("AAPL 190 calls 21 Nov",)
    assert extras.isins == ("US0378331005",)
    assert extras.amounts == ("1500.00 EUR", "3000 USD", "15000 RUB")
    assert isin_valid("ES0113211835") and not isin_valid("ES0113211836")


def test_the_pipeline_is_rebuilt_when_its_vocabulary_grows_too_large(monkeypatch):
    """Every new number is a new word to spaCy; a long-running worker must not grow forever."""
    from triage.extract import identifiers
    from triage.extract.pipeline import pipeline

    before = pipeline("en")
    monkeypatch.setattr(identifiers, "VOCAB_LIMIT", len(before.vocab) + 5)
    for number in range(20):
        found = extract("", f"order {5510000000 + number} on U66{number:05d}", "en")
        assert list(found.order_ids) == [str(5510000000 + number)]
    assert pipeline("en") is not before


@pytest.mark.parametrize(("text", "label", "reach"), [
    ("order {} 5510432291", "order:context", 6),
    ("withdrawal {} reference 7730418826", "transaction:id-word", 6),
    ("withdrawal reference {} 7730418826", "transaction:id-word", 6),
])
def test_a_context_word_reaches_six_words_and_no_further(text, label, reach):
    """The matcher's filler is unbounded ("*", for speed); the bound is applied to its matches."""
    from triage.extract.pipeline import pipeline

    def labels(words: int) -> set[str]:
        doc = pipeline("en")(text.format(" ".join(["placed"] * words)))
        return {span.label_ for span in doc.spans["identifiers"]}

    assert label in labels(reach)
    assert label not in labels(reach + 1)


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Прошу проверить исполнение по двум поручениям от 03.10.2026: 5512340 и 5512388.", "ru", ["5512340", "5512388"]),
    ("po prikazam 7781203345 i 7781203390 net otveta", "ru", ["7781203345", "7781203390"]),
    ("ORDER ID-7781203345 rejected, my ordr 7781203352 too", "en", ["7781203345", "7781203352"]),
    ("the stop (ref 66120934) never triggered", "en", ["66120934"]),
    ("GTC 5509812 still working after I sent the cxl", "en", ["5509812"]),
    ("Там ордерок 4410928 висит, и сделочка 4410931 задвоилась", "ru", ["4410928", "4410931"]),
    ("VTA  GGAL  150  Nro. Op. 2291034478  Neto ARS", "es", ["2291034478"]),
    ("The order ticket number it showed was 5531207.", "en", ["5531207"]),
])
def test_more_ways_of_naming_an_order(text, language, expected):
    """Case forms and slang, an id word joined by a hyphen, order types with a reference, the TWS order ticket."""
    assert list(extract("", text, language).order_ids) == expected


def test_a_confirmation_is_a_trade_when_a_trade_is_told_beside_it():
    trade = extract("", "I sold 40 shares of XOM on Monday for my wife. The confirmation number is 8812034471.", "en")
    after = extract("", "It carries confirmation number 8812034488 for a purchase of 300 KO.", "en")
    deposit = extract("", "My deposit confirmation number is 8812034495, sent from Chase.", "en")
    assert list(trade.order_ids) == ["8812034471"] and not trade.transaction_ids
    assert list(after.order_ids) == ["8812034488"]
    assert list(deposit.transaction_ids) == ["8812034495"] and not deposit.order_ids


def test_a_pasted_order_screen_gives_its_id_the_order_kind():
    """Field lines: "Cantidad" names its own line's value, not the ID two lines below."""
    text = "Así lo veo en la app:\n  Orden: Venta\n  Cantidad: 15\n  Precio: 88,10\n  ID: 3390128874\n  Estado: Cancelada"
    assert list(extract("", text, "es").order_ids) == ["3390128874"]


def test_a_csv_row_keeps_its_account_and_a_call_or_firm_number_is_nobody_s():
    found = extract("", "U7712034,20261003,MSFT,BUY,5,402.10,7730012291", "en")
    assert list(found.account_ids) == ["U7712034"]
    assert extract("", "Мне дали номер звонка 7781203, а заявка на покупку всё ещё висит.", "ru").order_ids == ()
    assert extract("", "Our FCA firm reference number is 771203, about the transfer.", "en").transaction_ids == ()


def test_an_execution_id_with_letters_before_a_dot_is_one_word():
    found = extract("", "the report shows exec id 0001c2d4.6a7f12bc.01.01 for the fill", "en")
    assert list(found.execution_ids) == ["0001c2d4.6a7f12bc.01.01"]


def test_a_money_movement_word_right_before_its_number_names_a_transfer():
    """"withdrawal 7712093384 of $2,100": no id word needed; a round number there is an amount."""
    found = extract("", "Withdrawal 7712093384 of $2,100 is still not here, and so is my deposit 250000.", "en")
    assert list(found.transaction_ids) == ["7712093384"]
    assert list(extract("", "Y el retiro nro. 5512093371 por US$ 900 sigue sin llegar.", "es").transaction_ids) == [
        "5512093371"]
    assert list(extract("", "Позиционный перевод с номером 66120934 не исполнен.", "ru").transaction_ids) == ["66120934"]


def test_compact_dates_have_plausible_years():
    """31122024 and a birth date 15031962 are dates; 30081904, with no plausible year, can be a reference."""
    assert extract("", "transfer number 31122024 and deposit number 15031962", "en").transaction_ids == ()
    assert list(extract("", "transfer number 30081904", "en").transaction_ids) == ["30081904"]


def test_pasted_transfer_history_gives_its_references():
    """A table with a reference column, and history rows apart by runs of spaces, name transfers; a bank's
    reference column does not."""
    table = ("Дата | Тип | Сумма | ID транзакции | Статус\n03.10.2026 | Внутренний | 5000.00 | 7720134 | Выполнен\n"
             "05.10.2026 | Вывод | 1200.00 | 7720188 | Отменён")
    assert list(extract("", table, "ru").transaction_ids) == ["7720134", "7720188"]
    spaced = ("Bank ref        Your ref    Amount\n20261003774411  55120934    GBP 900.00\n\n"
              "Withdrawal   EUR 300.00   55120990   Cancelled")
    assert list(extract("", spaced, "en").transaction_ids) == ["55120934", "55120990"]


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("wd req 66012934 for $1,800 to my Chase account is late", "en", ["66012934"]),
    ("the deposit confirmation 66012977 says Returned", "en", ["66012977"]),
    ("Oformil vyvod 500 EUR na Revolut, nomer zayavki 66013002, deneg net", "ru", ["66013002"]),
    ("Платёжным поручением № 114702 от 01.10.2026 перечислено 30 000 USD", "ru", ["114702"]),
])
def test_more_ways_of_naming_a_transfer(text, language, expected):
    found = extract("", text, language)
    assert list(found.transaction_ids) == expected and not found.order_ids


def test_an_order_after_a_withdrawal_is_still_an_order():
    found = extract("", "Вывод 2 000 USD ещё не завершён, а моя заявка на продажу 9102933475 отклонена.", "ru")
    assert list(found.order_ids) == ["9102933475"] and not found.transaction_ids

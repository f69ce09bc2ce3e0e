"""Masking of names, phone numbers, e-mails and ids for stakeholder pages."""

import numpy as np
import pandas as pd
import pytest

from analysis.privacy import KnownValues, mask_email, mask_frame, mask_id, mask_name, mask_phone, mask_text


def test_names_keep_the_first_character_of_each_word():
    assert mask_name("张三") == "张*"
    assert mask_name("张小明") == "张**"
    assert mask_name("Alice Smith") == "A**** S****"
    assert mask_name("欧阳 娜娜") == "欧***"
    assert mask_name("Bo") == "B*" and mask_name("X") == "X*"  # never the name itself
    assert mask_name(None) is None and mask_name("") == ""
    assert np.isnan(mask_name(np.nan))


def test_phones_keep_three_and_four_digits():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("138-1234-1234") == "138****1234"
    assert mask_phone("+86 138 1234 1234") == "+861******1234"
    assert mask_phone("020 7946 0958") == "020****0958"
    assert mask_phone("0207946095") == "******6095"
    assert mask_phone("5551234") == "***1234"
    assert mask_phone("12") == "*12"


def test_emails_keep_the_first_letter_and_the_domain():
    assert mask_email("alice.smith@example.com") == "a***@example.com"
    assert mask_email("zhang.san@qq.com") == "z***@qq.com"
    assert mask_email("not an address") == "n** a* a******"


def test_ids_hash_stably_and_differ_with_the_salt():
    assert mask_id("12345") == mask_id("12345") == mask_id(12345)
    assert mask_id("12345") != mask_id("12346")
    assert mask_id("12345", salt="s") != mask_id("12345")
    assert mask_id("12345").startswith("c-") and len(mask_id("12345")) == 10
    assert "12345" not in mask_id("12345")


def test_text_and_frames_lose_every_raw_value():
    assert mask_text("call 13812341234 or write to a.b@x.cn") == "call 138****1234 or write to a***@x.cn"
    frame = pd.DataFrame(
        {
            "customer_id": ["7", "8"],
            "customer_name": ["张三", "Alice Smith"],
            "Phone": ["13812341234", None],
            "email": ["a@b.com", "c@d.org"],
            "monetary": [1.0, 2.0],
        }
    )
    out = mask_frame(frame)
    assert out["customer_name"].tolist() == ["张*", "A**** S****"]
    assert out["Phone"].iloc[0] == "138****1234" and pd.isna(out["Phone"].iloc[1])
    assert out["email"].tolist() == ["a***@b.com", "c***@d.org"]
    assert out["customer_id"].tolist() == [mask_id("7"), mask_id("8")]
    assert out["monetary"].tolist() == [1.0, 2.0]
    assert frame["customer_name"].iloc[0] == "张三"  # the caller's frame is untouched
    assert mask_frame(frame, ids=False)["customer_id"].tolist() == ["7", "8"]


def test_dates_and_plain_text_tables_are_not_phone_numbers():
    for text in ("as of 1998-06-30 12:00:00", "[10 20 30 40 50]", "0  17850  12  34", "1234567890.12",
                 "order 12345678", "id12345678901"):  # fmt: skip
        assert mask_text(text) == text
    assert mask_text("1998-06-30 13812341234") == "1998-06-30 138****1234"
    assert mask_text("(020) 7946 0958, +44 20 7946 0958") == "020****0958, +442*****0958"


def test_known_values_are_masked_in_free_text():
    known = KnownValues(names=["张三", "张三丰", "Alice Smith", "Ann", "X"], phones=["5551234", 13812341299.0, "12"],
                        emails=["a.b@x.cn", "no address"])  # fmt: skip
    assert len(known) == 7  # "X", "12" and "no address" would mask ordinary words and numbers
    assert known("客户Alice Smith和张三，张三丰") == "客户A**** S****和张*，张**"
    assert known("Annabel and Ann.") == "Annabel and A**."  # Latin names as whole words only
    assert known("tel 5551234, not 55512345; 13812341299") == "tel ***1234, not 55512345; 138****1299"
    assert known("write to a.b@x.cn.") == "write to a***@x.cn."
    assert known("nothing here") == "nothing here" and KnownValues()("Alice Smith") == "Alice Smith"


def test_known_values_from_a_customer_table():
    frame = pd.DataFrame({"customer_id": ["12345"], "customer_name": ["Bob Stone"], "手机": ["13912345678"],
                          "orders": [12345]})  # fmt: skip
    known = KnownValues.from_frame(frame)
    assert known("Bob Stone, 13912345678, customer 12345") == "B** S****, 139****5678, customer 12345"


def test_ids_are_keyed_by_hmac_not_an_unsalted_hash():
    import hashlib
    import hmac

    assert mask_id("12345", "key") == "c-" + hmac.new(b"key", b"12345", hashlib.sha256).hexdigest()[:8]
    assert mask_id("12345", "key") != "c-" + hashlib.sha256(b"12345").hexdigest()[:8]
    assert mask_id("12345", "key") != "c-" + hashlib.sha256(b"key12345").hexdigest()[:8]


def test_the_page_key_is_created_beside_the_reports_private_and_reused(tmp_path, monkeypatch):
    import stat

    from analysis import privacy

    monkeypatch.delenv(privacy.SALT_VARIABLE, raising=False)
    monkeypatch.setattr(privacy, "_KEY_FILE", [])
    reports = tmp_path / "reports"
    key = privacy.page_salt(reports / "run-1")
    path = reports / privacy.KEY_FILE
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 64
    assert privacy.page_salt(reports / "run-2") == key  # a later run of the folder
    assert privacy.page_salt() == key  # this process keeps the folder (the pack, after the pages)
    assert privacy.for_pages(pd.DataFrame({"customer_id": ["7"]}), True)["customer_id"][0] == mask_id("7", key)
    other = privacy.page_salt(tmp_path / "elsewhere" / "run")
    assert other != key and len(other) == 64
    monkeypatch.setenv(privacy.SALT_VARIABLE, "shared secret")  # one key for several machines
    assert privacy.page_salt(reports / "run-3") == "shared secret"
    assert path.read_text(encoding="ascii").strip() == key


def test_without_a_reports_folder_the_key_is_random_for_the_process(monkeypatch):
    from analysis import privacy

    monkeypatch.delenv(privacy.SALT_VARIABLE, raising=False)
    monkeypatch.setattr(privacy, "_KEY_FILE", [])
    monkeypatch.setattr(privacy, "_PROCESS_KEY", [])
    key = privacy.page_salt()
    assert key and privacy.page_salt() == key and mask_id("7", key) != mask_id("7")


def test_an_empty_key_file_is_a_clear_error(tmp_path, monkeypatch):
    from analysis import privacy
    from analysis.errors import UserError

    monkeypatch.delenv(privacy.SALT_VARIABLE, raising=False)
    monkeypatch.setattr(privacy, "_KEY_FILE", [])
    (tmp_path / privacy.KEY_FILE).write_text("")
    with pytest.raises(UserError, match="mask key .* is empty"):
        privacy.page_salt(tmp_path / "run")

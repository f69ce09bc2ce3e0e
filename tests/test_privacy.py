"""Masking of names, phone numbers, e-mails and ids for stakeholder pages."""

import numpy as np
import pandas as pd

from analysis.privacy import mask_email, mask_frame, mask_id, mask_name, mask_phone, mask_text


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

"""ConText assertion, sentence splitting and sections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamproc.nlp.assertion import ContextAssertion, load_rules
from streamproc.nlp.assertion.evaluate import evaluate_chia
from streamproc.nlp.sections import find_sections
from streamproc.nlp.sentences import split_sentences


@pytest.fixture(scope="module")
def ctx() -> ContextAssertion:
    return ContextAssertion()


def assertion_of(ctx: ContextAssertion, sentence: str, mention: str) -> str:
    start = sentence.index(mention)
    return ctx.assert_text(sentence, start, start + len(mention)).assertion


@pytest.mark.parametrize(
    ("sentence", "mention", "expected"),
    [
        ("No evidence of pneumonia.", "pneumonia", "absent"),
        ("Patient denies chest pain or shortness of breath.", "shortness of breath", "absent"),
        ("Pneumonia was ruled out.", "Pneumonia", "absent"),
        ("Negative for fever.", "fever", "absent"),
        ("Possible pneumonia in the left lower lobe.", "pneumonia", "possible"),
        ("Chest pain, likely angina.", "angina", "possible"),
        ("Findings concerning for appendicitis.", "appendicitis", "possible"),
        ("Return if fever develops.", "fever", "hypothetical"),
        ("Watch for signs of bleeding.", "bleeding", "hypothetical"),
        # round 51: warnings given to the patient ("confusion" had become a Condition)
        ("ED precautions for confusion, bleeding or vomiting.", "confusion", "hypothetical"),
        ("ED precautions for confusion, bleeding or vomiting.", "vomiting", "hypothetical"),
        # round 54: an item the patient denies ("Suicidal ideation - denies." had been confirmed)
        ("6. Suicidal ideation - denies.", "Suicidal ideation", "absent"),
        # round 55: a finding the plan anticipates ("steroid-induced hyperglycemia expected")
        (
            "6. Type 2 diabetes - steroid-induced hyperglycemia expected;",
            "hyperglycemia",
            "hypothetical",
        ),
        (
            "6. Type 2 diabetes - steroid-induced hyperglycemia expected;",
            "Type 2 diabetes",
            "present",
        ),
        ("Pain improving as expected.", "Pain", "present"),
        # round 56: "- none so far", "- none (…)" after the item
        ("5. Acute liver injury - none so far (normal AST/ALT).", "Acute liver injury", "absent"),
        ("5. Diabetes mellitus - none (glycosuria is renal).", "Diabetes mellitus", "absent"),
        ("- urine screening test for diabetes", "diabetes", "hypothetical"),  # a plan item
        ("Positive test for influenza.", "influenza", "present"),
        ("Mother had breast cancer.", "breast cancer", "family"),
        ("Family history of diabetes.", "diabetes", "family"),
        ("Shortness of breath on exertion.", "Shortness of breath", "conditional"),
        ("Chest pain when climbing stairs.", "Chest pain", "conditional"),
        ("History of hypertension.", "hypertension", "present"),
        ("Patient has type 2 diabetes.", "type 2 diabetes", "present"),
        # nursing-note wording (context-rules-11, docs/assertion-gold.md)
        ("No further bleeding after FFP.", "bleeding", "absent"),
        ("No longer air leak or fluctuation.", "air leak", "absent"),
        ("Abd CT showed ?gallstone, NPO.", "gallstone", "possible"),
        ("Febrile, ? yeast infection in groin.", "yeast infection", "possible"),
        ("Pneumonia? repeat film in am.", "Pneumonia", "possible"),
        ("Hypotensive, most prob septic.", "septic", "possible"),
        ("HR to 140's, appearing to be afib. MD aware.", "afib", "possible"),
        ("Rhythm appears to be sinus tach, no ectopy.", "sinus tach", "possible"),
        ("Check left groin for bleeding.", "bleeding", "hypothetical"),
        ("Assess for evidence of new infection.", "infection", "hypothetical"),
        ("Tylenol ordered prn for pain.", "pain", "hypothetical"),
        # context-rules-15: a plan to treat a symptom is no finding; a treatment given is
        ("Plan - medicate for pain from procedure prn.", "pain", "hypothetical"),
        ("Give MSO4 for pain 1-2mg.", "pain", "hypothetical"),
        ("Medicated with MSO4 for pain with good effect.", "pain", "present"),
        ("Incision pain never totally resolved.", "Incision pain", "present"),
        ("He has not fully resolved his cellulitis.", "cellulitis", "present"),
        # X150 (context-rules-13): the target of a prophylaxis is no finding
        ("restart coumadin this evening for DVT proph(hx of DVT).", "DVT", "hypothetical"),
        ("on sc heparin for dvt ppx", "dvt", "hypothetical"),
        ("New DVT in left leg.", "DVT", "present"),
        # context-rules-22 (epilepsy clinic, round 23): a warning and a plan to conceive
        (
            "Not a candidate for carbamazepine, which can worsen myoclonic seizures.",
            "myoclonic seizures",
            "hypothetical",
        ),
        ("Switched because she is planning pregnancy.", "pregnancy", "hypothetical"),
        ("3. Pregnancy planning - folic acid daily.", "Pregnancy", "hypothetical"),
        ("She is pregnant, 12 weeks, planning delivery at term.", "pregnant", "present"),
    ],
)
def test_categories(ctx: ContextAssertion, sentence: str, mention: str, expected: str) -> None:
    assert assertion_of(ctx, sentence, mention) == expected


@pytest.mark.parametrize(
    ("sentence", "mention", "expected"),
    [
        # scope ends at a terminator term
        ("No fever but has cough.", "cough", "present"),
        ("No fever but has cough.", "fever", "absent"),
        ("Pt without diabetes; has hypertension.", "hypertension", "present"),
        # pseudo-triggers consume the words that would otherwise negate
        ("There is no increase in the pleural effusion.", "pleural effusion", "present"),
        ("No change in the mass.", "mass", "present"),
        ("Gram negative bacteremia.", "bacteremia", "present"),
        ("Non-small cell lung cancer.", "lung cancer", "present"),
        ("Rash, not limited to the trunk.", "Rash", "present"),
        # max window: a negation far away does not reach
        (
            "No fever was noted during the visit today and later in the evening the patient "
            "developed a cough.",
            "cough",
            "present",
        ),
    ],
)
def test_scope(ctx: ContextAssertion, sentence: str, mention: str, expected: str) -> None:
    assert assertion_of(ctx, sentence, mention) == expected


@pytest.mark.parametrize(
    ("sentence", "mention", "expected"),
    [
        # a rule that stops at a comma stops there looking back too (MICU note, round 17)
        ("AKI, concern for hepatorenal syndrome vs prerenal.", "AKI", "present"),
        ("AKI, concern for hepatorenal syndrome vs prerenal.", "prerenal", "possible"),
        ("Pneumonia vs atelectasis on CXR.", "Pneumonia", "possible"),
        ("CHF, pneumonia possible.", "CHF", "present"),
        ("CHF, pneumonia possible.", "pneumonia", "possible"),
        # ... and at a spaced dash: the item's head is not the differential after it
        ("Rash with fever - concerning for DRESS vs early SJS.", "fever", "present"),
        ("Rash with fever - concerning for DRESS vs early SJS.", "DRESS", "possible"),
        # "fall risk" is one word back, never across a comma (a Synthea history list)
        (
            "History of miscarriage in first trimester, risk activity involvement.",
            "trimester",
            "present",
        ),
        ("High fall risk.", "fall", "hypothetical"),
    ],
)
def test_a_comma_stops_a_scope_either_way(
    ctx: ContextAssertion, sentence: str, mention: str, expected: str
) -> None:
    assert assertion_of(ctx, sentence, mention) == expected


def test_scope_ends_at_sentence(ctx: ContextAssertion) -> None:
    text = "No fever. Cough for three days."
    start = text.index("Cough")
    (res,) = ctx.assert_spans(text, [(start, start + 5)])
    assert res.assertion == "present"


def test_family_history_section(ctx: ContextAssertion) -> None:
    text = "HPI: cough.\nFamily History:\nDiabetes in several members.\n"
    start = text.index("Diabetes")
    (res,) = ctx.assert_spans(text, [(start, start + 8)])
    assert res.assertion == "family"
    assert res.cue == "section:family_history"


def test_cue_is_reported(ctx: ContextAssertion) -> None:
    res = ctx.assert_text("Patient denies nausea.", 15, 21)
    assert (res.assertion, res.cue) == ("absent", "denies")


def test_rules_from_file(tmp_path: Path) -> None:
    rules = {
        "version": "tiny-1",
        "rules": [
            {"literal": "nope", "category": "absent", "direction": "forward"},
            {"literal": "nope not", "category": "pseudo"},
        ],
    }
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    version, loaded = load_rules(path)
    ctx = ContextAssertion(loaded, version)
    assert ctx.version == "tiny-1"
    assert assertion_of(ctx, "nope asthma", "asthma") == "absent"
    assert assertion_of(ctx, "nope not asthma", "asthma") == "present"
    assert assertion_of(ctx, "no asthma", "asthma") == "present"  # default rules not loaded


def test_bad_rule_category(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{"literal": "x", "category": "maybe"}]}))
    with pytest.raises(ValueError, match="unknown ConText category"):
        load_rules(path)


def test_sentences_clinical_layout() -> None:
    text = (
        "Pt is a 45 y.o. male w/ CHF. Dr. Smith saw him at 3.5 p.m. today.\n"
        "Assessment: CHF exacerbation\n1. Continue lasix 40 mg.\n2. Follow up.\n"
        "Name123\n is a 60 year-old.\n\n# Plan\n- item one\n- item two"
    )
    got = [s.text(text) for s in split_sentences(text)]
    assert got == [
        "Pt is a 45 y.o. male w/ CHF.",
        "Dr. Smith saw him at 3.5 p.m. today.",
        "Assessment: CHF exacerbation",
        "1. Continue lasix 40 mg.",
        "2. Follow up.",
        "Name123\n is a 60 year-old.",
        "# Plan",
        "- item one",
        "- item two",
    ]


def test_a_dose_ends_its_sentence() -> None:
    """Primary-care note (round 17): "…increased to 10 mg. Gout flare in March treated with
    colchicine" was one sentence, and colchicine was alerted for the ankle swelling."""
    text = "Ankle swelling since amlodipine was increased to 10 mg. Gout flare treated with colchicine."
    got = [s.text(text) for s in split_sentences(text)]
    assert got == [
        "Ankle swelling since amlodipine was increased to 10 mg.",
        "Gout flare treated with colchicine.",
    ]
    # a unit with no number before it stays an abbreviation
    assert len(split_sentences("Dose in mg. Per kg of weight.")) == 1


def test_sentences_split_lower_case_notes() -> None:
    """All-lower-case nursing notes still end sentences; abbreviations and initials do not."""
    text = "no basal rate. pt states pain is under control. sats 98%. pt calm. seen by dr. smith"
    got = [s.text(text) for s in split_sentences(text)]
    assert got == [
        "no basal rate.",
        "pt states pain is under control.",
        "sats 98%.",
        "pt calm.",
        "seen by dr. smith",
    ]
    assert len(split_sentences("treated with i.v. antibiotics at 2 p.m. today")) == 1


def test_lower_case_split_keeps_a_negation_in_its_sentence(ctx: ContextAssertion) -> None:
    text = "hr 90's nsr w/o ectopi. no episodes of afib today. gi- abd soft distended"
    start = text.index("distended")
    result = ctx.assert_spans(text, [(start, start + 9)], split_sentences(text))[0]
    assert result.assertion == "present"


def test_wo_is_without_in_nursing_shorthand(ctx: ContextAssertion) -> None:
    text = "SATS UPPER 90'S ON 3L NC. WO CO SOB/DYSPNEA. CXR WO INFILTRATE/EFFUSION."
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("SOB", "INFILTRATE", "EFFUSION")]
    results = ctx.assert_spans(text, spans, split_sentences(text))
    assert [r.assertion for r in results] == ["absent"] * 3


def test_sections() -> None:
    text = "# Chief Complaint\n- Cough\n\nFAMILY HISTORY: mother with DM\nAllergies:\nNKDA\n"
    names = [s.name for s in find_sections(text)]
    assert names == ["chief_complaint", "family_history", "allergies"]


def test_chia_negation_reader(tmp_path: Path, ctx: ContextAssertion) -> None:
    text = "No history of asthma\nPatients with diabetes\n"
    (tmp_path / "NCT1_exc.txt").write_text(text)
    ann = [
        "T1\tCondition 14 20\tasthma",
        "T2\tNegation 0 2\tNo",
        "R1\tHas_negation Arg1:T1 Arg2:T2\t",
        "T3\tCondition 35 43\tdiabetes",
    ]
    (tmp_path / "NCT1_exc.ann").write_text("\n".join(ann) + "\n")
    score = evaluate_chia(tmp_path, ctx)
    assert (score.tp, score.fp, score.fn, score.tn) == (1, 0, 0, 1)
    assert score.f1 == 1.0


@pytest.mark.parametrize(
    ("text", "mention", "past"),
    [
        ("Patient has a history of CKD stage 3, anxiety and stress.", "stress", True),
        ("h/o MI, presenting with chest pain.", "chest pain", False),
        ("h/o MI, presenting with chest pain.", "MI", True),
        ("Family history of breast cancer in her mother.", "breast cancer", False),
        ("History of present illness reviewed: cough for 3 days.", "cough", False),
        ("PMH: asthma, GERD. Today wheezing.", "GERD", True),
        ("Known history of epilepsy but seizure free; admitted for syncope.", "syncope", False),
        ("Hx: DM2, HTN.", "HTN", True),
        ("65M s/p MI in 2019, now with dyspnea.", "MI", True),
        ("65M s/p MI in 2019, now with dyspnea.", "dyspnea", False),
        # a duration makes "history" this illness's course, not the past history
        ("Came in with a 24h history of epistaxis.", "epistaxis", False),
        ("ADMITTED FOR 1.5 WEEK HX OF PAIN IN THE NECK.", "PAIN", False),
        ("PT WITH HX (+) FOR ETOH ABUSE AND SEIZURES.", "SEIZURES", True),
        ("History significant for atrial fibrillation.", "atrial fibrillation", True),
        ("Hx positive for CAD, now with chest pain.", "chest pain", False),
        ("PRESENT HX: ACUTE ONSET OF SOB. TO VA, INTUBATED.", "SOB", False),
        # a past year dates the mention; a date of this stay or a diagnosis year does not
        ("Focal epilepsy after a 2019 left MCA stroke.", "left MCA stroke", True),
        ("She had pneumonia in 2021 and now has cellulitis.", "pneumonia", True),
        ("She had pneumonia in 2021 and now has cellulitis.", "cellulitis", False),
        ("Parkinson disease (dx 2014), on levodopa.", "Parkinson disease", False),
        ("Seen 2024-11-02 for stroke symptoms.", "stroke", False),
        # a drug of a past year dates what it caused, or what it was stopped for
        ("She was on levetiracetam in 2019 which caused irritability.", "irritability", True),
        ("He tried apixaban in 2016 - stopped due to heavy epistaxis.", "epistaxis", True),
        ("On lisinopril since 2016, now with cough.", "cough", False),
        # "prior" / "previous" right before it
        ("Morphine avoided given prior severe pruritus.", "pruritus", True),
        ("He had a previous DVT, now on no anticoagulation.", "DVT", True),
        ("Compared with prior imaging, new pleural effusion.", "pleural effusion", False),
        ("Prior to admission she developed a rash.", "rash", False),
    ],
)
def test_history_triggers_and_their_end(text: str, mention: str, past: bool) -> None:
    from streamproc.nlp.assertion.history import historical
    from streamproc.nlp.sections import SectionIndex
    from streamproc.nlp.sentences import split_sentences

    start = text.index(mention)
    flags = historical(
        text, [(start, start + len(mention))], split_sentences(text), SectionIndex.of(text)
    )
    assert flags == [past]


def test_what_an_assessment_instrument_names_is_not_found() -> None:
    ctx = ContextAssertion()
    text = "- assessment using alcohol use disorders identification test - consumption (procedure)"
    start = text.index("alcohol")
    assert ctx.assert_text(text, start, start + len("alcohol")).assertion == "hypothetical"


@pytest.mark.parametrize(
    ("text", "mention", "expected"),
    [
        ("- skin test for tuberculosis, tine test (procedure)", "tuberculosis", "hypothetical"),
        ("Urine test for diabetes ordered.", "diabetes", "hypothetical"),
        ("Positive test for influenza A.", "influenza", "present"),
    ],
)
def test_a_test_for_a_disease_is_not_the_disease(text: str, mention: str, expected: str) -> None:
    start = text.index(mention)
    assert ContextAssertion().assert_text(text, start, start + len(mention)).assertion == expected


@pytest.mark.parametrize(
    ("sentence", "target", "expected"),
    [
        # nephrology note: a trailing "possible" doubts what it follows
        ("AKI on CKD 3b; contrast nephropathy possible.", "contrast nephropathy", "possible"),
        ("Pneumonia possible, will get CXR.", "Pneumonia", "possible"),
        ("AKI on CKD 3b; contrast nephropathy possible.", "AKI", "present"),
        # an idiom, not a doubt
        ("Follow up for the rash as soon as possible.", "rash", "present"),
        ("Treat the pain if possible.", "pain", "present"),
        # urgent care: a return precaution names what has not happened
        (
            "Return precautions for blistering, mucosal involvement or fever.",
            "fever",
            "hypothetical",
        ),
        # isolation precautions name what the patient carries (ICU note: "VRE and MRSA")
        ("On contact precautions for VRE and MRSA.", "MRSA", "present"),
        # primary care: a risk is no diagnosis, a risk factor list still is
        ("Avoid naproxen given CKD risk and BP.", "CKD", "hypothetical"),
        ("Cardiac risk factors: HTN, DM.", "HTN", "present"),
        # rounds 18-20: a work-up, a precaution, a finding said not to fit, a doubt withdrawn
        ("Stool studies to exclude infection (C. diff, GI PCR).", "infection", "possible"),
        ("Rivastigmine continued; delirium precautions.", "delirium", "hypothetical"),
        ("Return precautions for chest pain reviewed.", "chest pain", "hypothetical"),
        ("Fall precautions. Delirium today.", "Delirium", "present"),
        ("A/P: Aspiration PNA \nAspiration precautions", "PNA", "present"),
        ("Not consistent with anaphylaxis or SJS.", "SJS", "absent"),
        ("Findings consistent with pneumonia.", "pneumonia", "possible"),
        ("Bipolar disorder was previously considered but never confirmed.", "Bipolar", "absent"),
        (
            "7. Opioid-induced constipation not present; constipation due to vincristine.",
            "Opioid",
            "absent",
        ),
        (
            "7. Opioid-induced constipation not present; constipation due to vincristine.",
            "vincristine",
            "present",
        ),
        # "resolved postpartum" says when it resolved, not what
        (
            "5. Gestational diabetes - resolved postpartum; OGTT at 6 weeks.",
            "Gestational",
            "absent",
        ),
        # round 32: "induced by" / "triggered by" a cause is an event that happened (the rash
        # had been "conditional": no Condition, a "potential" alert); by exertion, conditional
        ("2. Rash induced by amoxicillin - stop amoxicillin.", "Rash", "present"),
        ("1. Autonomic dysreflexia triggered by bladder distension.", "Autonomic", "present"),
        ("Chest pain triggered by exertion, relieved by rest.", "Chest pain", "conditional"),
        ("Wheezing induced by exercise.", "Wheezing", "conditional"),
        # nursing notes: "to try to avoid hypotension from the Propofol" is no hypotension (it
        # had become an actual propofol alert); "avoid NSAIDs given CKD" still has the CKD
        (
            "Changed to fentanyl to try to avoid hypotension from the propofol.",
            "hypotension",
            "hypothetical",
        ),
        ("5. Osteoarthritis: avoid NSAIDs given CKD.", "CKD", "present"),
        # nursing shorthand: "(C-DIFF NEG)"
        ("Having diarrhea (C-DIFF NEG) and her skin is raw.", "C-DIFF", "absent"),
        ("Loose green stool, guaiac neg.", "Loose green stool", "present"),  # the test's result
        # round 44: what the biopsy showed otherwise; a cause not suspected
        (
            "5. Pemphigus vulgaris and bullous pemphigoid not consistent with biopsy.",
            "bullous pemphigoid",
            "absent",
        ),
        (
            "5. Pemphigus vulgaris and bullous pemphigoid not consistent with biopsy.",
            "Pemphigus",
            "absent",
        ),
        ("HSV and mycoplasma not suspected clinically but tested.", "mycoplasma", "absent"),
        ("Findings not consistent with pneumonia.", "pneumonia", "absent"),
        # round 46: a differential "considered", a diagnosis "probable" or "not favored"
        ("7. Malignant catatonia - considered; lorazepam challenge.", "catatonia", "possible"),
        ("Malnutrition - tube feeds, oxandrolone considered.", "Malnutrition", "present"),
        ("Bipolar disorder was considered but never confirmed.", "Bipolar", "absent"),
        ("3. Acute interstitial nephritis, probable, as part of DRESS.", "nephritis", "possible"),
        ("5. Myelodysplastic syndrome - not favored (acute onset).", "Myelodysplastic", "possible"),
        ("5. Cellulitis at PICC site - not present.", "Cellulitis", "absent"),
        # round 47: an exacerbation's course is not the chronic disease's; a risk a therapy lowers
        ("3. COPD - recent exacerbation, resolved.", "COPD", "present"),
        ("Estradiol patch (lower VTE and stroke risk, also preferred)", "VTE", "hypothetical"),
        ("Hypertension, diabetes and CV risk factors.", "diabetes", "present"),
        # round 48: "- none on AIMS", a finding awaiting its biopsy
        ("7. Tardive dyskinesia - none on AIMS.", "Tardive", "absent"),
        ("5. H. pylori infection - biopsy pending; treat if positive.", "pylori", "possible"),
        ("Fever, blood cultures pending.", "Fever", "present"),
        # round 49: what recovered
        ("4. History of vancomycin-associated AKI (October 2024), recovered.", "AKI", "absent"),
        ("He recovered well from pneumonia last year.", "pneumonia", "present"),
        # round 50: "- no signs"
        ("3. Anaphylaxis - no signs.", "Anaphylaxis", "absent"),
        ("6. Deep vein thrombosis - no clinical signs; continue prophylaxis.", "Deep", "absent"),
    ],
)
def test_cues_from_emr_style_notes(sentence: str, target: str, expected: str) -> None:
    ctx = ContextAssertion()
    start = sentence.index(target)
    assert ctx.assert_text(sentence, start, start + len(target)).assertion == expected


def test_less_likely_doubts_the_differential_before_it() -> None:
    ctx = ContextAssertion()
    sentence = "ILD from amiodarone; hypersensitivity pneumonitis and heart failure less likely."
    for target in ("hypersensitivity pneumonitis", "heart failure"):
        start = sentence.index(target)
        assert ctx.assert_text(sentence, start, start + len(target)).assertion == "possible"
    assert ctx.assert_text(sentence, 0, 3).assertion == "present"


def test_a_full_stop_inside_brackets_ends_no_sentence() -> None:
    """Hospital note (round 27): "C. difficile colitis, non-severe (WBC < 15 at onset, creatinine
    at baseline... WBC now 18.9, so severe by IDSA criteria), likely due to ceftriaxone" was cut
    at the ellipsis, and the cause was paired with "WBC" instead of the colitis."""
    text = (
        "1. C. difficile colitis (WBC < 15 at onset, creatinine at baseline... WBC now 18.9), "
        "likely due to ceftriaxone. Start oral vancomycin."
    )
    got = [s.text(text) for s in split_sentences(text)]
    assert got == [text[: text.index(" Start")], "Start oral vancomycin."]
    # a bracket closed before the full stop changes nothing, nor one that never closes
    assert len(split_sentences("Rash (mild). Fever today.")) == 2
    unclosed = "GIVEN ATIVAN ( PT GOT THIS LAST PM W/O COMPROMISE. WITH THIS PT CALMER."
    assert len(split_sentences(unclosed)) == 2


def test_a_reaction_dated_by_its_drugs_year_is_history() -> None:
    """Rheumatology (round 28): "a severe rash with fever, eosinophilia and hepatitis on
    allopurinol in 2021 (DRESS, hospitalized)" published four active Conditions."""
    from streamproc.nlp.assertion.history import historical
    from streamproc.nlp.sections import SectionIndex

    text = (
        "He developed a severe rash with fever and hepatitis on allopurinol in 2021 (DRESS, "
        "hospitalized). Pneumonia, on warfarin since 2015."
    )
    spans = [
        (text.index(w), text.index(w) + len(w)) for w in ("rash", "hepatitis", "DRESS", "Pneumonia")
    ]
    assert historical(text, spans, split_sentences(text), SectionIndex.of(text)) == [
        True,
        True,
        True,
        False,
    ]


def test_a_pre_operative_anesthetic_history_is_history() -> None:
    """Pre-operative evaluation (round 32): the 2019 anaphylaxis's hypotension, bronchospasm and
    urticaria under "Anesthetic history:" had been active Conditions."""
    from streamproc.nlp.assertion.history import historical
    from streamproc.nlp.sections import SectionIndex

    text = (
        "Procedure: right TKA.\nAnesthetic history: anaphylaxis to rocuronium (hypotension, "
        "bronchospasm).\n\nAssessment:\n1. OSA - bring CPAP.\n"
    )
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("bronchospasm", "OSA")]
    assert historical(text, spans, split_sentences(text), SectionIndex.of(text)) == [True, False]


def test_a_life_stage_dates_a_finding_as_history() -> None:
    """Lyme clinic (round 36): "penicillin allergy (hives as a child)" published active hives."""
    from streamproc.nlp.assertion.history import historical
    from streamproc.nlp.sections import SectionIndex

    text = "Penicillin allergy (hives as a child). Asthma in childhood. Pneumonia now."
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("hives", "Asthma", "Pneumonia")]
    assert historical(text, spans, split_sentences(text), SectionIndex.of(text)) == [
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("sentence", "mention", "expected"),
    [
        # round 38: a bracket holding only the cue (and a year) glosses the item before it
        (
            "PMH: migraine, iron deficiency anemia (2019, resolved).",
            "iron deficiency anemia",
            "absent",
        ),
        ("PMH: migraine, iron deficiency anemia (2019, resolved).", "migraine", "present"),
        ("Asthma (resolved). Gout.", "Asthma", "absent"),
        ("Rash (pruritic, resolved with steroids) on arms.", "Rash", "present"),
        # a postfix cue alone after its comma qualifies the item before it
        ("Pneumonia, possible.", "Pneumonia", "possible"),
        (
            "1. Amiodarone pulmonary toxicity, suspected - stop amiodarone.",
            "pulmonary toxicity",
            "possible",
        ),
        ("AKI, concern for HRS vs prerenal.", "AKI", "present"),
        ("Rash, suspected drug eruption.", "Rash", "present"),
        ("Rash, suspected drug eruption.", "drug eruption", "possible"),
        # round 39
        ("1. Thrombotic thrombocytopenic purpura, suspected (high PLASMIC score).",
         "Thrombotic thrombocytopenic purpura", "possible"),
        ("No platelet transfusion unless bleeding.", "bleeding", "hypothetical"),
        # round 40
        ("Wernicke encephalopathy not excluded - thiamine IV.", "Wernicke encephalopathy",
         "possible"),
        # round 41: "Allopurinol hypersensitivity has not occurred" had alerted
        ("Allopurinol hypersensitivity has not occurred.", "hypersensitivity", "absent"),
        ("Seizures did not recur.", "Seizures", "absent"),
        ("Hypoglycemia has occurred twice.", "Hypoglycemia", "present"),
    ],
)  # fmt: skip
def test_a_cue_glossing_the_item_before_it(
    ctx: ContextAssertion, sentence: str, mention: str, expected: str
) -> None:
    """Sarcoidosis and amiodarone notes (round 38): "iron deficiency anemia (2019, resolved)"
    and "pulmonary toxicity, suspected" had been present."""
    assert assertion_of(ctx, sentence, mention) == expected


def test_a_drug_stopped_in_a_past_year_dates_what_it_was_stopped_for() -> None:
    """Amiodarone note (round 38): "sotalol stopped in 2021 for QT prolongation" was an active
    encounter diagnosis."""
    from streamproc.nlp.assertion.history import historical
    from streamproc.nlp.sections import SectionIndex

    text = (
        "Medications tried: sotalol stopped in 2021 for QT prolongation. Doxycycline was stopped "
        "in 2023 after photosensitivity. Metoprolol stopped for bradycardia."
    )
    words = ("QT prolongation", "photosensitivity", "bradycardia")
    spans = [(text.index(w), text.index(w) + len(w)) for w in words]
    assert historical(text, spans, split_sentences(text), SectionIndex.of(text)) == [
        True,
        True,
        False,
    ]
    # round 39: what a drug tried before did, glossed after it
    text = (
        "Failed risperidone (galactorrhea) and olanzapine (weight gain). Tried lisinopril (for "
        "hypertension). Now sialorrhea."
    )
    words = ("galactorrhea", "weight gain", "hypertension", "sialorrhea")
    # (round 41's obstetric history is below)
    spans = [(text.index(w), text.index(w) + len(w)) for w in words]
    assert historical(text, spans, split_sentences(text), SectionIndex.of(text)) == [
        True,
        True,
        True,  # the drug's past indication: dated by the tried clause too
        False,
    ]


def test_a_previous_pregnancy_heads_an_obstetric_history() -> None:
    """Maternal-fetal medicine note (round 41): the previous pregnancy's preeclampsia was an
    active encounter diagnosis."""
    from streamproc.nlp.assertion.history import historical
    from streamproc.nlp.sections import SectionIndex

    text = "Previous pregnancy: preeclampsia with severe features at 35 weeks. Now gestational diabetes."
    words = ("preeclampsia with severe features", "gestational diabetes")
    spans = [(text.index(w), text.index(w) + len(w)) for w in words]
    assert historical(text, spans, split_sentences(text), SectionIndex.of(text)) == [True, False]


@pytest.mark.parametrize(
    ("sentence", "mention", "expected"),
    [
        # round 58: return precautions in a plan are no findings ("call … with eye pain, nausea
        # or vision loss" had published R52 and R11.0 as active)
        ("- Recheck IOP in 1 week; call 617-555-0142 with eye pain, nausea or vision loss.",
         "vision loss", "hypothetical"),
        ("- Recheck IOP in 1 week; call 617-555-0142 with eye pain, nausea or vision loss.",
         "eye pain", "hypothetical"),
        ("Return to clinic with fever or worsening rash.", "worsening rash", "hypothetical"),
        ("Seek medical attention for chest pain.", "chest pain", "hypothetical"),
        # round 60
        ("Return in 2 weeks for cycle 10; sooner with bleeding, fever or chest pain.",
         "chest pain", "hypothetical"),
        ("Phone call with the patient about his chest pain.", "chest pain", "present"),
        ("Contact the clinic with fever or chills.", "chills", "hypothetical"),
        ("Phone contact with the patient about his confusion.", "confusion", "present"),
        # a semicolon then a trigger heading a closed list opens a clause: every item is in it
        ("Lungs clear; no wheezes, rales or rhonchi.", "rales", "absent"),
        ("Lungs clear; no wheezes, rales or rhonchi.", "rhonchi", "absent"),
        # ... but one item of a semicolon list qualifies itself only
        ("Problems: HTN; possible OSA, obesity.", "OSA", "possible"),
        ("Problems: HTN; possible OSA, obesity.", "obesity", "present"),
        # "now healed" / "now resolved": "now" had ended the cue's reach back
        ("She notes oral ulcers last week, now healed.", "oral ulcers", "absent"),
        ("She had a rash last week, now resolved.", "rash", "absent"),
        ("The ulcer has healed.", "ulcer", "absent"),
        ("Non-healed ulcer of the heel.", "ulcer", "present"),
        ("Sacral ulcer, partially healed.", "ulcer", "present"),
    ],
)  # fmt: skip
def test_round_58_plans_lists_and_healing(
    ctx: ContextAssertion, sentence: str, mention: str, expected: str
) -> None:
    assert assertion_of(ctx, sentence, mention) == expected


def test_a_disease_named_by_its_assay_shares_the_trailing_negation(ctx: ContextAssertion) -> None:
    """Hepatology consult (round 58): "Hepatitis A IgM, HBsAg, HBc IgM, HCV RNA and HEV IgM
    negative" published hepatitis C (B19.20): the tagger's "HCV" ends before "RNA", so the
    negation after the list did not reach it."""
    text = "Hepatitis A IgM, HBsAg, HBc IgM, HCV RNA and HEV IgM negative."
    spans = [(text.index(m), text.index(m) + len(m)) for m in ("HCV", "HEV IgM")]
    assert [r.assertion for r in ctx.assert_spans(text, spans)] == ["absent", "absent"]
    # a disease that is positive stays
    text = "HCV RNA and HBsAg positive, HEV IgM negative."
    start = text.index("HCV")
    assert ctx.assert_spans(text, [(start, start + 3)])[0].assertion == "present"

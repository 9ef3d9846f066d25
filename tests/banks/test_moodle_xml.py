"""Reading Moodle XML (trainer/banks/moodle_xml.py): what maps, what is refused, what is only a warning."""
from trainer.banks.moodle_xml import parse_moodle_xml, parse_moodle_xml_with_media


def quiz(*questions: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "\n".join(questions) + "\n</quiz>\n"


def question(kind: str, body: str, name: str = "Q", text: str = "Question?", fmt: str = "html") -> str:
    return (f'<question type="{kind}"><name><text>{name}</text></name>'
            f'<questiontext format="{fmt}"><text><![CDATA[{text}]]></text></questiontext>{body}</question>')


def test_a_non_image_file_is_left_out_with_a_warning_and_the_question_kept():
    xml = quiz(question("truefalse", '<answer fraction="100"><text>true</text></answer>'
                                     '<answer fraction="0"><text>false</text></answer>',
                        text='<p><a href="@@PLUGINFILE@@/bonjour.mp3">Listen</a></p>')
               .replace("</questiontext>", '<file name="bonjour.mp3" encoding="base64">SUQz</file></questiontext>'))
    questions, problems, media = parse_moodle_xml_with_media(xml, "m.xml")

    assert [q.data["id"] for q in questions] == ["q"] and media == {}
    assert [(p.kind, p.message.split(" (")[0]) for p in problems] == [
        ("warning", "file bonjour.mp3 is not an image a course can hold"),
        ("warning", "refers to a file")]


def test_case_sensitive_short_answers_and_cloze_questions_are_refused_by_line():
    xml = quiz(question("shortanswer", '<usecase>1</usecase><answer fraction="100"><text>Retinol</text></answer>'),
               question("multianswer", "", name="Cloze"))
    questions, problems = parse_moodle_xml(xml, "m.xml")

    assert questions == []
    assert [(p.line, p.message.split(":")[0].split(";")[0]) for p in problems] == [
        (3, "case-sensitive short answers (usecase 1) cannot be graded the Moodle way here"),
        (4, "embedded-answer (cloze) questions are not supported")]


def test_idnumber_category_tags_plain_text_and_the_trainer_comment():
    body = ('<!-- trainer: {"source": "S1", "critical": true} --><idnumber>MN-9</idnumber>'
            '<answer fraction="100"><text>true</text><feedback><text>Yes.</text></feedback></answer>'
            '<answer fraction="0"><text>false</text><feedback><text>Yes.</text></feedback></answer>'
            "<tags><tag><text>sun</text></tag></tags>")
    xml = quiz('<question type="category"><category><text>$course$/top/Aftercare</text></category></question>',
               question("truefalse", body, text="Use *SPF 30*", fmt="plain_text"))
    [parsed], problems = parse_moodle_xml(xml, "m.xml")

    assert problems == []
    assert parsed.data == {"id": "mn-9", "type": "true_false", "stem": "Use \\*SPF 30\\*", "answer": True,
                           "feedback": "Yes.", "tags": ["Aftercare", "sun"], "source": "S1", "critical": True}


def test_a_declared_latin_1_encoding_does_not_garble_the_already_decoded_text():
    xml = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n'
           + quiz(question("truefalse", '<answer fraction="100"><text>true</text></answer>'
                                        '<answer fraction="0"><text>false</text></answer>',
                           text="Crème – fine?", fmt="plain_text")).split("\n", 1)[1])
    [parsed], problems = parse_moodle_xml(xml, "m.xml")

    assert problems == [] and parsed.data["stem"] == "Crème – fine?"

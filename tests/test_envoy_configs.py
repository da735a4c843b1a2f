"""Every Envoy configuration example in the book parses against Envoy's v3 API."""
import textwrap

from bookfiles import ROOT, pages
from check_envoy_config import check_files


def test_every_envoy_example_parses():
    problems = check_files(pages(ROOT))
    assert not problems, "Envoy configuration examples that do not parse:\n" + "\n".join(problems)


def _page(tmp_path, yaml_text):
    p = tmp_path / "book" / "page.md"
    p.parent.mkdir(parents=True)
    p.write_text("# A page\n\nSome text.\n\n```yaml\n" + textwrap.dedent(yaml_text).strip() + "\n```\n", encoding="utf-8")
    return p


LISTENER = """\
    # envoy: envoy.config.listener.v3.Listener
    name: demo
    address:
      socket_address: {address: 127.0.0.1, port_value: 10000}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: demo
          cluster: backend
    """


def test_a_valid_example_passes(tmp_path):
    assert check_files([_page(tmp_path, LISTENER)]) == []


def test_misspelled_field_inside_typed_config_names_file_and_line(tmp_path):
    page = _page(tmp_path, LISTENER.replace("stat_prefix", "stat_prefx"))
    [problem] = check_files([page])
    # the fence is line 5, so the misspelled field sits on line 15
    assert f"{page}:15:" in problem and "stat_prefx" in problem


def test_misspelled_top_level_field_names_its_line(tmp_path):
    page = _page(tmp_path, LISTENER.replace("filter_chains:", "filter_chain:"))
    [problem] = check_files([page])
    assert f"{page}:10:" in problem and "filter_chain" in problem


def test_unknown_message_type_is_reported(tmp_path):
    page = _page(tmp_path, LISTENER.replace("listener.v3.Listener", "listener.v3.Listenr"))
    [problem] = check_files([page])
    assert f"{page}:6:" in problem and "Listenr" in problem


def test_envoy_config_without_marker_is_reported(tmp_path):
    page = _page(tmp_path, LISTENER.split("\n", 1)[1])
    [problem] = check_files([page])
    assert f"{page}:6:" in problem and "# envoy:" in problem


def test_yaml_syntax_error_names_its_line(tmp_path):
    page = _page(tmp_path, LISTENER.replace("cluster: backend", "cluster: [backend"))
    [problem] = check_files([page])
    assert str(page) in problem and "not valid YAML" in problem


def test_example_nested_in_an_admonition_is_checked(tmp_path):
    p = tmp_path / "book" / "page.md"
    p.parent.mkdir(parents=True)
    body = "\n".join("  " * 0 + l for l in LISTENER.replace("stat_prefix", "stat_prefx").splitlines())
    p.write_text("# A page\n\n````{admonition} Try it\n:class: try-it\n\n```yaml\n"
                 + __import__("textwrap").dedent(body).strip() + "\n```\n````\n", encoding="utf-8")
    [problem] = check_files([p])
    # the inner fence is line 6, so the misspelled field sits on line 16
    assert f"{p}:16:" in problem and "stat_prefx" in problem

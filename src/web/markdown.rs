//! Just enough Markdown for the registration guides in `lti-config/`
//! (headings, paragraphs, lists, tables, fenced code, `code` and **bold**),
//! so the admin console shows the same text the repository does. Everything
//! is escaped first; only the markup this module writes is HTML.

/// Escapes text for HTML element content and attribute values, exactly as
/// the templates do (askama's HTML escaper).
pub fn escape(text: &str) -> String {
    match askama::filters::escape(text, askama::filters::Html) {
        Ok(escaped) => escaped.to_string(),
        Err(never) => match never {},
    }
}

/// `code` spans and **bold**, on one line of text.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            for (j, piece) in escape(part).split("**").enumerate() {
                if j > 0 {
                    out.push_str(if j % 2 == 1 { "<strong>" } else { "</strong>" });
                }
                out.push_str(piece);
            }
            // An unclosed ** is closed so the page stays well formed.
            if escape(part).matches("**").count() % 2 == 1 {
                out.push_str("</strong>");
            }
        }
    }
    out
}

fn table_cells(line: &str) -> Vec<String> {
    let line = line.trim().trim_start_matches('|').trim_end_matches('|');
    line.split('|').map(|c| inline(c.trim())).collect()
}

fn is_table_rule(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

fn ordered_item(line: &str) -> Option<&str> {
    let (number, rest) = line.split_once(". ")?;
    (!number.is_empty() && number.chars().all(|c| c.is_ascii_digit())).then_some(rest)
}

pub fn to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<&'static str> = None;
    let lines: Vec<&str> = markdown.lines().collect();
    let flush_paragraph = |out: &mut String, paragraph: &mut Vec<&str>| {
        if !paragraph.is_empty() {
            out.push_str("<p>");
            out.push_str(&inline(&paragraph.join(" ")));
            out.push_str("</p>\n");
            paragraph.clear();
        }
    };
    let close_list = |out: &mut String, list: &mut Option<&'static str>| {
        if let Some(tag) = list.take() {
            out.push_str(&format!("</{tag}>\n"));
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            flush_paragraph(&mut out, &mut paragraph);
            close_list(&mut out, &mut list);
            let mut code = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim().starts_with("```") {
                code.push(lines[i]);
                i += 1;
            }
            out.push_str("<pre><code>");
            out.push_str(&escape(&code.join("\n")));
            out.push_str("</code></pre>\n");
        } else if trimmed.is_empty() {
            flush_paragraph(&mut out, &mut paragraph);
            close_list(&mut out, &mut list);
        } else if let Some(level) = ["### ", "## ", "# "]
            .iter()
            .position(|p| trimmed.starts_with(p))
        {
            flush_paragraph(&mut out, &mut paragraph);
            close_list(&mut out, &mut list);
            // The page has its own h1: guide headings start at h2.
            let tag = ["h4", "h3", "h2"][level];
            let text = trimmed.trim_start_matches('#').trim();
            out.push_str(&format!("<{tag}>{}</{tag}>\n", inline(text)));
        } else if trimmed.starts_with('|') {
            flush_paragraph(&mut out, &mut paragraph);
            close_list(&mut out, &mut list);
            let header = table_cells(trimmed);
            let mut body = Vec::new();
            let mut j = i + 1;
            if j < lines.len() && is_table_rule(lines[j]) {
                j += 1;
            }
            while j < lines.len() && lines[j].trim().starts_with('|') {
                body.push(table_cells(lines[j]));
                j += 1;
            }
            out.push_str("<div class=\"table-wrap\"><table class=\"links-table\"><thead><tr>");
            for cell in &header {
                out.push_str(&format!("<th>{cell}</th>"));
            }
            out.push_str("</tr></thead><tbody>");
            for row in body {
                out.push_str("<tr>");
                for cell in row {
                    out.push_str(&format!("<td>{cell}</td>"));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table></div>\n");
            i = j;
            continue;
        } else if let Some(item) = trimmed
            .strip_prefix("- ")
            .map(|t| ("ul", t))
            .or_else(|| ordered_item(trimmed).map(|t| ("ol", t)))
        {
            flush_paragraph(&mut out, &mut paragraph);
            let (tag, text) = item;
            if list != Some(tag) {
                close_list(&mut out, &mut list);
                out.push_str(&format!("<{tag}>\n"));
                list = Some(tag);
            }
            // Continuation lines (indented) belong to the item.
            let mut text = text.to_string();
            while i + 1 < lines.len()
                && lines[i + 1].starts_with("  ")
                && !lines[i + 1].trim().is_empty()
            {
                i += 1;
                text.push(' ');
                text.push_str(lines[i].trim());
            }
            out.push_str(&format!("<li>{}</li>\n", inline(&text)));
        } else {
            close_list(&mut out, &mut list);
            paragraph.push(trimmed);
        }
        i += 1;
    }
    flush_paragraph(&mut out, &mut paragraph);
    close_list(&mut out, &mut list);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guides_render_their_markup_and_escape_everything_else() {
        let html = to_html(
            "# Moodle\n\nPaste `{base}/lti/register` **now** <b>.\n\n- one\n- two\n\n| A | B |\n|---|---|\n| `x` | y |\n\n```sh\nguestlink platform add <x>\n```\n",
        );
        assert!(html.contains("<h2>Moodle</h2>"));
        assert!(
            html.contains("<code>{base}/lti/register</code> <strong>now</strong> &#60;b&#62;.")
        );
        assert!(html.contains("<ul>\n<li>one</li>\n<li>two</li>\n</ul>"));
        assert!(html.contains("<th>A</th><th>B</th>"));
        assert!(html.contains("<td><code>x</code></td><td>y</td>"));
        assert!(html.contains("<pre><code>guestlink platform add &#60;x&#62;</code></pre>"));
    }

    #[test]
    fn escaping_covers_markup_quotes_and_ampersands() {
        let escaped = escape(r#"<a href="x">&'</a>"#);
        for raw in ['<', '>', '"', '\''] {
            assert!(!escaped.contains(raw), "{escaped}");
        }
        assert!(escaped.contains("&#38;"), "{escaped}");
    }

    #[test]
    fn numbered_lines_become_an_ordered_list() {
        assert_eq!(
            to_html("1. one\n2. two\n"),
            "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"
        );
    }

    #[test]
    fn a_number_without_a_dot_and_space_is_a_paragraph() {
        assert_eq!(to_html("2026 was a year.\n"), "<p>2026 was a year.</p>\n");
        assert_eq!(to_html("1.5 points\n"), "<p>1.5 points</p>\n");
    }

    #[test]
    fn a_switch_from_bullets_to_numbers_starts_a_new_list() {
        assert_eq!(
            to_html("- a\n1. b\n"),
            "<ul>\n<li>a</li>\n</ul>\n<ol>\n<li>b</li>\n</ol>\n"
        );
    }

    #[test]
    fn indented_lines_continue_a_list_item() {
        assert_eq!(
            to_html("- first line\n  goes on\n- second\n"),
            "<ul>\n<li>first line goes on</li>\n<li>second</li>\n</ul>\n"
        );
    }

    #[test]
    fn lines_of_a_paragraph_are_joined_and_a_blank_line_ends_it() {
        assert_eq!(
            to_html("one\ntwo\n\nthree"),
            "<p>one two</p>\n<p>three</p>\n"
        );
    }

    #[test]
    fn guide_headings_start_one_level_below_the_pages_own() {
        assert_eq!(
            to_html("# A\n## B\n### C\n"),
            "<h2>A</h2>\n<h3>B</h3>\n<h4>C</h4>\n"
        );
    }

    #[test]
    fn an_unclosed_bold_is_closed_so_the_page_stays_well_formed() {
        assert_eq!(to_html("**open"), "<p><strong>open</strong></p>\n");
    }

    #[test]
    fn markup_inside_code_is_shown_as_written() {
        assert_eq!(
            to_html("`**x** <y>`"),
            "<p><code>**x** &#60;y&#62;</code></p>\n"
        );
    }

    #[test]
    fn a_table_without_a_rule_line_has_every_following_row_in_its_body() {
        assert_eq!(
            to_html("| A |\n| 1 |\n| 2 |\n"),
            "<div class=\"table-wrap\"><table class=\"links-table\"><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td></tr><tr><td>2</td></tr></tbody></table></div>\n"
        );
    }

    #[test]
    fn an_unclosed_code_fence_runs_to_the_end() {
        assert_eq!(
            to_html("```\nline <1>\nline 2"),
            "<pre><code>line &#60;1&#62;\nline 2</code></pre>\n"
        );
    }
}

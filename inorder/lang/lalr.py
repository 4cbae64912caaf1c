"""The LALR automaton lark builds for grammar/qcmd.lark, run without lark.

lark is the grammar's compiler: it builds the LALR(1) tables and the
terminals' patterns once (lang/grammar.py), and they are kept as plain data.
Importing lark costs 70 to 130 ms on this project's machines, most of a cold
start's budget (the README's benchmark), so a script is parsed by this
module, which reads those tables and does what lark's LALR parser and
contextual lexer do with them:

- lexing: in each parser state, only the terminals that state accepts (and
  the ignored ones) are tried, in lark's order (priority, longest possible
  match, longest pattern, name), as one alternation; a string terminal a
  regexp terminal also matches (`include` and NAME) is the regexp's token
  retyped when its text is exactly the string;
- a character no terminal of the state matches is UnexpectedCharacters, or
  UnexpectedToken when a terminal of another state matches there;
- parsing: shift, reduce, and at the end the `$END` token placed at the last
  token; a token the state has no action for is UnexpectedToken;
- shaping, as lark's tree builder with an inline transformer: terminals
  marked filter_out are dropped, a rule whose name starts with `_` is spliced
  into its parent, a `?rule` with one child is that child, and every other
  rule is (alias or name, children), the start rule its children.

tests/unit/test_lalr.py holds this module to lark's own parser, on generated
scripts as on every script of the project.
"""

from __future__ import annotations

import re

FORMAT = 1
_SHIFT, _REDUCE = 0, 1


class Token(str):
    """A terminal's text, with its type and place (1-based line and column,
    0-based offset), as lark's Token."""

    __slots__ = ("type", "start_pos", "line", "column", "end_line", "end_column", "end_pos")

    def __new__(cls, type_: str, value: str, start_pos: int, line: int, column: int):
        self = super().__new__(cls, value)
        self.type = type_
        self.start_pos, self.line, self.column = start_pos, line, column
        self.end_line, self.end_column, self.end_pos = line, column, start_pos
        return self

    @property
    def value(self) -> str:
        return str(self)


class UnexpectedCharacters(Exception):
    def __init__(self, pos: int, line: int, column: int):
        super().__init__(f"no terminal matches at line {line} column {column}")
        self.pos_in_stream, self.line, self.column = pos, line, column


class UnexpectedToken(Exception):
    def __init__(self, token: Token):
        super().__init__(f"unexpected {token.type} {str(token)!r} at line {token.line} "
                         f"column {token.column}")
        self.token = token
        self.line, self.column = token.line, token.column


def tables_of(built) -> dict:
    """The tables of a lark.Lark(parser="lalr", lexer="contextual") as plain
    data (this runs only where lark was imported to build them)."""
    data, _ = built.memo_serialize([])       # nothing memoized: each rule in full
    table = data["parser"]["parser"]
    names = table["tokens"]
    rule_ids: dict[str, int] = {}
    rules = []

    def rule_index(rule: dict) -> int:
        rule = [rule["origin"]["name"], rule["alias"], rule["options"]["expand1"],
                [[s["name"], s["__type__"] == "Terminal", s.get("filter_out", False)]
                 for s in rule["expansion"]]]
        same = repr(rule)
        if same not in rule_ids:
            rule_ids[same] = len(rules)
            rules.append(rule)
        return rule_ids[same]

    states = {}
    for state, actions in table["states"].items():
        states[str(state)] = {names[symbol]: [action, rule_index(arg) if action == _REDUCE else arg]
                              for symbol, (action, arg) in actions.items()}
    terminals = [[t.name, t.pattern.to_regexp(), t.priority, t.pattern.max_width,
                  t.pattern.type == "str", t.pattern.value, sorted(t.pattern.flags)]
                 for t in built.terminals]
    return {"format": FORMAT, "terminals": terminals, "ignore": list(built.lexer_conf.ignore),
            "states": states, "rules": rules,
            "start": table["start_states"]["start"], "end": table["end_states"]["start"]}


def _rule(origin: str, alias, expand1: bool, expansion: list) -> tuple:
    """A rule as the parser uses it: its origin, what it becomes (and under
    which name), and what becomes of each child: lark's tree builder with an
    inline transformer."""
    how = tuple(_DROP if is_term and filter_out else _KEEP if is_term or not name.startswith("_")
                else _SPLICE for name, is_term, filter_out in expansion)
    if origin.startswith("_") and alias is None:
        kind = _INLINE
    elif origin == "start" and alias is None:
        kind = _CHILDREN
    else:
        kind = _EXPAND1 if expand1 else _NAMED
    return origin, kind, alias or origin, how


class _Terminal:
    __slots__ = ("name", "regexp", "priority", "max_width", "is_str", "value", "flags")

    def __init__(self, name, regexp, priority, max_width, is_str, value, flags):
        self.name, self.regexp, self.priority = name, regexp, priority
        self.max_width, self.is_str, self.value = max_width, is_str, value
        self.flags = frozenset(flags)


def _has_newline(regexp: str) -> bool:
    # lark's own test of whether a terminal may hold a line break (its line
    # counter looks for one only then)
    return "\n" in regexp or "\\n" in regexp or "\\s" in regexp or "[^" in regexp or \
        ("(?s" in regexp and "." in regexp)


class _Lexer:
    """The terminals one parser state accepts, as one alternation."""

    def __init__(self, terminals: list[_Terminal], ignore: frozenset[str]):
        terminals = sorted(terminals, key=lambda t: (-t.priority, -t.max_width, -len(t.value),
                                                     t.name))
        self.ignore = ignore
        self.newline = frozenset(t.name for t in terminals if _has_newline(t.regexp))
        # a string another terminal matches whole is that terminal's token,
        # retyped (lark's "unless" callbacks)
        strings = [t for t in terminals if t.is_str]
        self.retype: dict[str, re.Pattern] = {}
        embedded = set()
        for t in terminals:
            if t.is_str:
                continue
            unless = []
            for s in strings:
                match = re.match(t.regexp, s.value)
                if s.priority == t.priority and match and match.group(0) == s.value:
                    unless.append(s)
                    if s.flags <= t.flags:
                        embedded.add(s.name)
            if unless:
                self.retype[t.name] = re.compile("|".join(f"(?P<{s.name}>{s.regexp})"
                                                          for s in unless))
        kept = [t for t in terminals if t.name not in embedded]
        self.pattern = re.compile("|".join(f"(?P<{t.name}>{t.regexp})" for t in kept)) \
            if kept else None


class Parser:
    """Parses a text with kept tables (tables_of): a list of (rule, tokens)
    per command, as parse.py takes them."""

    def __init__(self, tables: dict):
        if tables.get("format") != FORMAT:
            raise ValueError("tables of another format")
        self.states = {int(k): v for k, v in tables["states"].items()}
        self.rules = [_rule(*r) for r in tables["rules"]]
        self.start, self.end = tables["start"], tables["end"]
        terminals = {t[0]: _Terminal(*t) for t in tables["terminals"]}
        ignore = frozenset(tables["ignore"])
        by_accepts: dict[frozenset, _Lexer] = {}
        self.lexers: dict[int, _Lexer] = {}
        for state, actions in self.states.items():
            accepts = frozenset(actions)
            if accepts not in by_accepts:
                names = (set(accepts) | ignore) & set(terminals)
                by_accepts[accepts] = _Lexer([terminals[n] for n in names], ignore)
            self.lexers[state] = by_accepts[accepts]
        self.root = _Lexer(list(terminals.values()), ignore)

    def parse(self, text: str) -> list:
        stack = [self.start]
        values: list = []
        scan = _Scan(text)
        last = None
        while True:
            token = scan.next(self.lexers[stack[-1]], self.root)
            if token is None:
                break
            self._feed(stack, values, token)
            last = token
        if last is None:
            end = Token("$END", "", 0, 1, 1)
        else:                             # at the last token, as lark places it
            end = Token("$END", "", last.start_pos, last.line, last.column)
            end.end_line, end.end_column, end.end_pos = last.end_line, last.end_column, last.end_pos
        return self._feed(stack, values, end)

    def _feed(self, stack: list, values: list, token: Token):
        states, rules = self.states, self.rules
        while True:
            try:
                action, arg = states[stack[-1]][token.type]
            except KeyError:
                raise UnexpectedToken(token) from None
            if action == _SHIFT:
                stack.append(arg)
                values.append(token)
                return None
            origin, kind, name, how = rules[arg]
            size = len(how)
            if size:
                children = values[-size:]
                del stack[-size:]
                del values[-size:]
            else:
                children = []
            value = _shaped(kind, name, how, children)
            stack.append(states[stack[-1]][origin][1])
            values.append(value)
            if token.type == "$END" and stack[-1] == self.end:
                return value


class _Inline(list):
    """The children of a rule whose name starts with `_`: spliced into the
    parent's."""


# what becomes of a rule's children (_rule reads it off the tables)
_DROP, _KEEP, _SPLICE = 0, 1, 2
# and of the rule: spliced into its parent, its children (the start rule),
# its one child or (name, children) (a ?rule), (name, children)
_INLINE, _CHILDREN, _EXPAND1, _NAMED = range(4)


def _shaped(kind: int, name: str, how: tuple, children: list):
    out: list = []
    for what, child in zip(how, children):
        if what == _KEEP:
            out.append(child)
        elif what == _SPLICE:
            if out:
                out.extend(child)
            else:
                out = child           # left recursion grows one list, as lark's does
    if kind == _INLINE:
        return out if type(out) is _Inline else _Inline(out)
    if kind == _EXPAND1 and len(out) == 1:
        return out[0]
    if type(out) is _Inline:
        out = list(out)
    return out if kind == _CHILDREN else (name, out)


class _Scan:
    """The text, a position in it, and lark's line counting."""

    def __init__(self, text: str):
        self.text = text
        self.pos, self.line, self.line_start = 0, 1, 0

    def next(self, lexer: _Lexer, root: _Lexer | None) -> Token | None:
        """The next token `lexer` matches; on a character it does not, what
        `root` (every terminal) makes of it: see _unexpected."""
        while self.pos < len(self.text):
            match = lexer.pattern.match(self.text, self.pos) if lexer.pattern else None
            if match is None:
                if root is None:
                    raise UnexpectedCharacters(self.pos, self.line,
                                               self.pos - self.line_start + 1)
                self._unexpected(root)
            value, kind = match.group(0), match.lastgroup
            token = Token(kind, value, self.pos, self.line, self.pos - self.line_start + 1)
            self._advance(value, kind in lexer.newline)
            if kind in lexer.ignore:
                continue
            token.end_line, token.end_column, token.end_pos = \
                self.line, self.pos - self.line_start + 1, self.pos
            retype = lexer.retype.get(kind)
            if retype is not None:
                whole = retype.fullmatch(value)
                if whole is not None:
                    token.type = whole.lastgroup
            return token
        return None

    def _advance(self, value: str, may_break: bool) -> None:
        if may_break and "\n" in value:
            self.line += value.count("\n")
            self.line_start = self.pos + value.rindex("\n") + 1
        self.pos += len(value)

    def _unexpected(self, root: _Lexer):
        """No terminal of this state matches: a terminal of another state
        that does is an unexpected token; else the character is."""
        error = UnexpectedCharacters(self.pos, self.line, self.pos - self.line_start + 1)
        try:
            token = self.next(root, None)
        except UnexpectedCharacters:
            raise error from None
        if token is None:
            raise error
        raise UnexpectedToken(token)

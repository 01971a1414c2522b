//! A parser of XPath 1.0 expressions (the language of YANG `must`, `when`
//! and leafref `path`) into a syntax tree, for the static analysis of what
//! an expression reads ([`super::deps`]). It does not evaluate anything:
//! libyang does that. Grammar and lexical rules of XPath 1.0 §3 and §3.7.

use std::fmt;

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b`, `a = b`, `a + b`...
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `-a`.
    Neg(Box<Expr>),
    /// `a | b`.
    Union(Box<Expr>, Box<Expr>),
    Literal(String),
    Number(f64),
    /// `$name`.
    Var(String),
    /// `name(args)` (a prefixed name keeps its prefix: `pfx:name`).
    Call(String, Vec<Expr>),
    Path(Path),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    /// `and`/`or` take their operands as booleans; the others as values.
    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::Or | BinOp::And)
    }
}

/// A location path, or a filter expression followed by steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub start: Start,
    pub steps: Vec<Step>,
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// `/...`: the root.
    Root,
    /// A relative path: the context node.
    Context,
    /// A filter expression (`current()`, `deref(x)`, `(expr)`) with its
    /// predicates.
    Filter(Box<Expr>, Vec<Expr>),
}

/// One location step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub axis: Axis,
    pub test: Test,
    pub preds: Vec<Expr>,
}

/// XPath axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Child,
    Parent,
    SelfAxis,
    Descendant,
    DescendantOrSelf,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
    Following,
    Preceding,
    Attribute,
    Namespace,
}

impl Axis {
    fn from_name(s: &str) -> Option<Axis> {
        Some(match s {
            "child" => Axis::Child,
            "parent" => Axis::Parent,
            "self" => Axis::SelfAxis,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "following-sibling" => Axis::FollowingSibling,
            "preceding-sibling" => Axis::PrecedingSibling,
            "following" => Axis::Following,
            "preceding" => Axis::Preceding,
            "attribute" => Axis::Attribute,
            "namespace" => Axis::Namespace,
            _ => return None,
        })
    }
}

/// A node test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// `pfx:name` or `name`.
    Name(Option<String>, String),
    /// `*` or `pfx:*`.
    Any(Option<String>),
    /// `node()`.
    Node,
    /// `text()`.
    Text,
    /// `comment()`, `processing-instruction()`: never a YANG data node.
    Other,
}

/// Why an expression did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Slash,
    DSlash,
    LBr,
    RBr,
    LPar,
    RPar,
    At,
    Comma,
    Dot,
    DDot,
    Pipe,
    Op(BinOp),
    Minus,
    Star,
    /// A QName (or `pfx:*`, as `Name(pfx, "*")`).
    Name(Option<String>, String),
    /// An axis name followed by `::`.
    Axis(Axis),
    /// A name followed by `(` (function or node type; the `(` is consumed).
    Func(String),
    Literal(String),
    Number(f64),
    Var(String),
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Whether the previous token lets `*` and a name be a name test (not an
/// operator): XPath 1.0 §3.7.
fn operand_expected(prev: Option<&Tok>) -> bool {
    match prev {
        None => true,
        Some(t) => matches!(
            t,
            Tok::At
                | Tok::Axis(_)
                | Tok::LPar
                | Tok::Func(_)
                | Tok::LBr
                | Tok::Comma
                | Tok::Op(_)
                | Tok::Minus
                | Tok::Slash
                | Tok::DSlash
                | Tok::Pipe
        ),
    }
}

fn tokenize(s: &str) -> Result<Vec<Tok>, ParseError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    let skip_ws = |mut j: usize| {
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        j
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        // Punctuation and operators: the token and its length.
        let fixed = match (c, next) {
            ('/', Some('/')) => Some((Tok::DSlash, 2)),
            ('/', _) => Some((Tok::Slash, 1)),
            ('[', _) => Some((Tok::LBr, 1)),
            (']', _) => Some((Tok::RBr, 1)),
            ('(', _) => Some((Tok::LPar, 1)),
            (')', _) => Some((Tok::RPar, 1)),
            ('@', _) => Some((Tok::At, 1)),
            (',', _) => Some((Tok::Comma, 1)),
            ('|', _) => Some((Tok::Pipe, 1)),
            ('.', Some('.')) => Some((Tok::DDot, 2)),
            ('.', n) if !n.is_some_and(|n| n.is_ascii_digit()) => Some((Tok::Dot, 1)),
            ('=', _) => Some((Tok::Op(BinOp::Eq), 1)),
            ('!', Some('=')) => Some((Tok::Op(BinOp::Ne), 2)),
            ('<', Some('=')) => Some((Tok::Op(BinOp::Le), 2)),
            ('<', _) => Some((Tok::Op(BinOp::Lt), 1)),
            ('>', Some('=')) => Some((Tok::Op(BinOp::Ge), 2)),
            ('>', _) => Some((Tok::Op(BinOp::Gt), 1)),
            ('+', _) => Some((Tok::Op(BinOp::Add), 1)),
            ('-', _) => Some((Tok::Minus, 1)),
            ('*', _) if operand_expected(out.last()) => Some((Tok::Star, 1)),
            ('*', _) => Some((Tok::Op(BinOp::Mul), 1)),
            _ => None,
        };
        if let Some((tok, len)) = fixed {
            i += len;
            out.push(tok);
            continue;
        }
        let tok = match c {
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .ok_or_else(|| ParseError("unterminated literal".into()))?;
                let lit: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                Tok::Literal(lit)
            }
            '$' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && (is_name_char(chars[j]) || chars[j] == ':') {
                    j += 1;
                }
                i = j;
                Tok::Var(chars[start..j].iter().collect())
            }
            d if d.is_ascii_digit() || d == '.' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                Tok::Number(text.parse().map_err(|_| ParseError(format!("bad number {text}")))?)
            }
            n if is_name_start(n) => {
                let start = i;
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                let first: String = chars[start..i].iter().collect();
                // `pfx:name` or `pfx:*` (a single colon; `::` is an axis).
                let mut prefix = None;
                let mut local = first.clone();
                if chars.get(i) == Some(&':') && chars.get(i + 1) != Some(&':') {
                    match chars.get(i + 1) {
                        Some('*') => {
                            prefix = Some(first.clone());
                            local = "*".into();
                            i += 2;
                        }
                        Some(&c2) if is_name_start(c2) => {
                            let s2 = i + 1;
                            let mut j = s2;
                            while j < chars.len() && is_name_char(chars[j]) {
                                j += 1;
                            }
                            prefix = Some(first.clone());
                            local = chars[s2..j].iter().collect();
                            i = j;
                        }
                        _ => return Err(ParseError(format!("bad name after {first}:"))),
                    }
                }
                let after = skip_ws(i);
                if !operand_expected(out.last()) && prefix.is_none() {
                    let op = match local.as_str() {
                        "and" => Some(BinOp::And),
                        "or" => Some(BinOp::Or),
                        "div" => Some(BinOp::Div),
                        "mod" => Some(BinOp::Mod),
                        _ => None,
                    };
                    match op {
                        Some(op) => Tok::Op(op),
                        None => return Err(ParseError(format!("operator expected, found {local}"))),
                    }
                } else if local != "*" && chars.get(after) == Some(&'(') {
                    i = after + 1;
                    Tok::Func(match prefix {
                        Some(p) => format!("{p}:{local}"),
                        None => local,
                    })
                } else if prefix.is_none()
                    && chars.get(after) == Some(&':')
                    && chars.get(after + 1) == Some(&':')
                {
                    i = after + 2;
                    Tok::Axis(
                        Axis::from_name(&local).ok_or_else(|| ParseError(format!("unknown axis {local}")))?,
                    )
                } else {
                    Tok::Name(prefix, local)
                }
            }
            other => return Err(ParseError(format!("unexpected character {other:?}"))),
        };
        out.push(tok);
    }
    Ok(out)
}

/// Parses an XPath 1.0 expression.
pub fn parse(s: &str) -> Result<Expr, ParseError> {
    let toks = tokenize(s)?;
    let mut p = Parser { toks, pos: 0, depth: 0 };
    let e = p.expr()?;
    if p.pos != p.toks.len() {
        return Err(ParseError(format!("unexpected token {:?}", p.toks[p.pos])));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Nesting bound (expressions come from the modules, but stay finite).
const MAX_DEPTH: usize = 48;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok) -> Result<(), ParseError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(ParseError(format!("expected {t:?}, found {:?}", self.peek())))
        }
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError("expression nested too deeply".into()));
        }
        let r = self.binary(0);
        self.depth -= 1;
        r
    }

    /// Precedence climbing over the binary levels: or, and, equality,
    /// relational, additive, multiplicative.
    fn binary(&mut self, level: usize) -> Result<Expr, ParseError> {
        const LEVELS: [&[BinOp]; 6] = [
            &[BinOp::Or],
            &[BinOp::And],
            &[BinOp::Eq, BinOp::Ne],
            &[BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge],
            &[BinOp::Add, BinOp::Sub],
            &[BinOp::Mul, BinOp::Div, BinOp::Mod],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(op)) if LEVELS[level].contains(op) => *op,
                Some(Tok::Minus) if level == 4 => BinOp::Sub,
                _ => break,
            };
            self.pos += 1;
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat(&Tok::Minus) {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut left = self.path_expr()?;
        while self.eat(&Tok::Pipe) {
            let right = self.path_expr()?;
            left = Expr::Union(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn path_expr(&mut self) -> Result<Expr, ParseError> {
        let filter = match self.peek() {
            Some(Tok::Literal(_) | Tok::Number(_) | Tok::Var(_) | Tok::LPar) => true,
            Some(Tok::Func(name)) => {
                !matches!(name.as_str(), "node" | "text" | "comment" | "processing-instruction")
            }
            _ => false,
        };
        if !filter {
            return Ok(Expr::Path(self.location_path()?));
        }
        let primary = self.primary()?;
        let mut preds = Vec::new();
        while self.peek() == Some(&Tok::LBr) {
            preds.push(self.predicate()?);
        }
        let mut steps = Vec::new();
        match self.peek() {
            Some(Tok::Slash) => {
                self.pos += 1;
                self.relative(&mut steps)?;
            }
            Some(Tok::DSlash) => {
                self.pos += 1;
                steps.push(Step { axis: Axis::DescendantOrSelf, test: Test::Node, preds: Vec::new() });
                self.relative(&mut steps)?;
            }
            _ => {}
        }
        if preds.is_empty() && steps.is_empty() {
            return Ok(primary);
        }
        Ok(Expr::Path(Path { start: Start::Filter(Box::new(primary), preds), steps }))
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let t = self.peek().cloned();
        self.pos += 1;
        match t {
            Some(Tok::Literal(s)) => Ok(Expr::Literal(s)),
            Some(Tok::Number(n)) => Ok(Expr::Number(n)),
            Some(Tok::Var(v)) => Ok(Expr::Var(v)),
            Some(Tok::LPar) => {
                let e = self.expr()?;
                self.expect(&Tok::RPar)?;
                Ok(e)
            }
            Some(Tok::Func(name)) => {
                let mut args = Vec::new();
                if !self.eat(&Tok::RPar) {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(&Tok::RPar) {
                            break;
                        }
                        self.expect(&Tok::Comma)?;
                    }
                }
                Ok(Expr::Call(name, args))
            }
            other => Err(ParseError(format!("expression expected, found {other:?}"))),
        }
    }

    fn predicate(&mut self) -> Result<Expr, ParseError> {
        self.expect(&Tok::LBr)?;
        let e = self.expr()?;
        self.expect(&Tok::RBr)?;
        Ok(e)
    }

    fn location_path(&mut self) -> Result<Path, ParseError> {
        let mut steps = Vec::new();
        match self.peek() {
            Some(Tok::Slash) => {
                self.pos += 1;
                if self.step_follows() {
                    self.relative(&mut steps)?;
                }
                Ok(Path { start: Start::Root, steps })
            }
            Some(Tok::DSlash) => {
                self.pos += 1;
                steps.push(Step { axis: Axis::DescendantOrSelf, test: Test::Node, preds: Vec::new() });
                self.relative(&mut steps)?;
                Ok(Path { start: Start::Root, steps })
            }
            _ => {
                self.relative(&mut steps)?;
                Ok(Path { start: Start::Context, steps })
            }
        }
    }

    fn step_follows(&self) -> bool {
        matches!(self.peek(), Some(Tok::Dot | Tok::DDot | Tok::At | Tok::Star | Tok::Name(..) | Tok::Axis(_)))
            || matches!(self.peek(), Some(Tok::Func(n)) if matches!(n.as_str(), "node" | "text" | "comment" | "processing-instruction"))
    }

    fn relative(&mut self, steps: &mut Vec<Step>) -> Result<(), ParseError> {
        loop {
            steps.push(self.step()?);
            match self.peek() {
                Some(Tok::Slash) => self.pos += 1,
                Some(Tok::DSlash) => {
                    self.pos += 1;
                    steps.push(Step { axis: Axis::DescendantOrSelf, test: Test::Node, preds: Vec::new() });
                }
                _ => return Ok(()),
            }
        }
    }

    fn step(&mut self) -> Result<Step, ParseError> {
        if self.eat(&Tok::Dot) {
            return Ok(Step { axis: Axis::SelfAxis, test: Test::Node, preds: Vec::new() });
        }
        if self.eat(&Tok::DDot) {
            return Ok(Step { axis: Axis::Parent, test: Test::Node, preds: Vec::new() });
        }
        let axis = match self.peek() {
            Some(Tok::At) => {
                self.pos += 1;
                Axis::Attribute
            }
            Some(Tok::Axis(a)) => {
                let a = *a;
                self.pos += 1;
                a
            }
            _ => Axis::Child,
        };
        let t = self.peek().cloned();
        self.pos += 1;
        let test = match t {
            Some(Tok::Star) => Test::Any(None),
            Some(Tok::Name(p, l)) if l == "*" => Test::Any(p),
            Some(Tok::Name(p, l)) => Test::Name(p, l),
            Some(Tok::Func(n)) => {
                // A node type test: `node()`, `text()`... (the literal of
                // processing-instruction('x') is skipped).
                if let Some(Tok::Literal(_)) = self.peek() {
                    self.pos += 1;
                }
                self.expect(&Tok::RPar)?;
                match n.as_str() {
                    "node" => Test::Node,
                    "text" => Test::Text,
                    "comment" | "processing-instruction" => Test::Other,
                    _ => return Err(ParseError(format!("{n}() is not a node test"))),
                }
            }
            other => return Err(ParseError(format!("step expected, found {other:?}"))),
        };
        let mut preds = Vec::new();
        while self.peek() == Some(&Tok::LBr) {
            preds.push(self.predicate()?);
        }
        Ok(Step { axis, test, preds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(p: &str, l: &str) -> Test {
        Test::Name(Some(p.into()), l.into())
    }

    #[test]
    fn paths_steps_and_predicates() {
        let e = parse("/a:x/a:y[a:k = current()]/../a:z").unwrap();
        let Expr::Path(p) = e else { panic!() };
        assert_eq!(p.start, Start::Root);
        assert_eq!(p.steps.len(), 4);
        assert_eq!(p.steps[1].test, name("a", "y"));
        assert_eq!(p.steps[2].axis, Axis::Parent);
        let Expr::Binary(BinOp::Eq, l, r) = &p.steps[1].preds[0] else { panic!() };
        assert!(matches!(**l, Expr::Path(Path { start: Start::Context, .. })));
        assert_eq!(**r, Expr::Call("current".into(), vec![]));
    }

    #[test]
    fn operators_and_name_tests() {
        // `*` after a path is multiplication; `div` and `and` are operators.
        let e = parse("count(x) * 2 div 3 and not(y)").unwrap();
        let Expr::Binary(BinOp::And, l, _) = e else { panic!() };
        assert!(matches!(*l, Expr::Binary(BinOp::Div, ..)));
        let e = parse("a:*/node()").unwrap();
        let Expr::Path(p) = e else { panic!() };
        assert_eq!(p.steps[0].test, Test::Any(Some("a".into())));
        assert_eq!(p.steps[1].test, Test::Node);
        // An element named `and` where a name test is expected.
        let Expr::Path(p) = parse("and/or").unwrap() else { panic!() };
        assert_eq!(p.steps[1].test, Test::Name(None, "or".into()));
    }

    #[test]
    fn filters_axes_and_unions() {
        let Expr::Path(p) = parse("deref(../i)/../p:k").unwrap() else { panic!() };
        assert!(matches!(p.start, Start::Filter(..)));
        assert_eq!(p.steps.len(), 2);
        let Expr::Path(p) = parse("../preceding-sibling::node()[local-name() = 'x']").unwrap() else {
            panic!()
        };
        assert_eq!(p.steps[1].axis, Axis::PrecedingSibling);
        assert!(matches!(parse("a | b//c").unwrap(), Expr::Union(..)));
        assert!(matches!(parse("-1 - -2").unwrap(), Expr::Binary(BinOp::Sub, ..)));
        assert_eq!(parse("1.5").unwrap(), Expr::Number(1.5));
        assert_eq!(parse("/").unwrap(), Expr::Path(Path { start: Start::Root, steps: vec![] }));
    }

    #[test]
    fn errors() {
        for bad in ["a[", "f(a,", "'x", "a b", "1 +", "x::y", "(a", "a[1]]"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).is_err());
    }
}

// The Juncture journey language, v1.1 (docs/language.md).
//
// Built by CMake with Debian's ANTLR 4.7.2 tool into a C++ parser (namespace
// juncture::grammar_internal). Only compiler/parse/ includes the generated headers.
//
// Conventions:
//  * Labelled alternatives (# Name) become one context class each; the AST builder
//    in compiler/parse/ dispatches on them.
//  * The grammar is deliberately permissive where a precise message helps more than a
//    parser error: header clauses may be interleaved with steps, `event`/`profile` may
//    appear without a field, type names are plain identifiers. Sema reports these.
grammar Juncture;

program : decl* EOF ;

decl
  : 'event' IDENT '{' fieldDecl* '}'                           # EventDecl
  | 'profile' '{' fieldDecl* '}'                               # ProfileDecl
  | 'channel' IDENT '{' channelClause* '}'                      # ChannelDecl
  | 'segment' IDENT '=' expr                                   # SegmentDecl
  | 'const' IDENT '=' expr                                     # ConstDecl
  | 'journey' IDENT '{' journeyItem* '}'                       # JourneyDecl
  ;

fieldDecl : name ':' typeRef ('=' expr)? ;

typeRef : IDENT ('<' typeRef '>')? optional='?'? ;

channelClause
  : 'consent' expr                                             # ConsentClause
  | 'quiet' CLOCK '..' CLOCK local='local'? drop='drop'?       # QuietClause
  | 'cap' INT 'per' DURATION                                   # CapClause
  | 'approval' IDENT                                           # ApprovalClause
  ;

// Header clauses and steps share one list so that a misplaced header clause gets a
// clear "must come before the steps" error from sema instead of a parser error.
journeyItem
  : headerClause
  | step
  ;

headerClause
  : 'title' STRING                                             # TitleClause
  | 'owner' STRING                                             # OwnerClause
  | 'priority' minus='-'? INT                                  # PriorityClause
  | 'approvals' IDENT (','? IDENT)*                            # ApprovalsClause
  | 'limit' name op=('<=' | '>=') expr                         # LimitClause
  | 'on' IDENT ('when' expr)?                                  # TriggerClause
  | 'eligible' expr                                            # EligibleClause
  | 'reenter' kind=('never' | 'always')                        # ReenterModeClause
  | 'reenter' 'after' DURATION                                 # ReenterAfterClause
  | 'exit' 'on' IDENT ('when' expr)?                           # ExitOnClause
  | 'goal' IDENT ('when' expr)? 'within' DURATION              # GoalClause
  // A bare number is accepted here so that sema can say that it needs a unit.
  | 'deadline' (DURATION | INT)                                # DeadlineClause
  ;

step
  : 'send' IDENT STRING params?                                # SendStep
  | 'wait' DURATION                                            # WaitStep
  | 'wait' 'until' IDENT ('or' IDENT)* ('when' expr)?
        'within' DURATION (block ('else' block)?)?             # WaitUntilStep
  | 'if' expr block ('else' 'if' expr block)* ('else' block)?  # IfStep
  | 'split' '{' splitBranch+ '}'                               # SplitStep
  | 'control'                                                  # ControlStep
  | 'exit'                                                     # ExitStep
  ;

params : '{' (param (',' param)* ','?)? '}' ;
param : name ':' expr ;

splitBranch : PERCENT ':' (block | step) ;

block : '{' step* '}' ;

// Precedence, high to low (ANTLR gives earlier alternatives higher precedence).
// `??` is left-associative here: (a ?? b) ?? c has the same value as a ?? (b ?? c)
// and keeps the parser from recursing once per operator.
expr
  : primary                                                    # PrimaryExpr
  | expr '.' name                                              # MemberExpr
  | '-' expr                                                   # NegExpr
  | expr op=('*' | '/' | '%') expr                             # MulExpr
  | expr op=('+' | '-') expr                                   # AddExpr
  | expr '??' expr                                             # CoalesceExpr
  | expr ( op=('==' | '!=' | '<' | '<=' | '>' | '>=' | 'in'
             | 'starts_with' | 'ends_with' | 'contains')
           | negated='not' op='in' ) expr                      # CompareExpr
  | 'not' expr                                                 # NotExpr
  | expr 'and' expr                                            # AndExpr
  | expr 'or' expr                                             # OrExpr
  ;

primary
  : literal                                                    # LiteralPrimary
  | '[' (expr (',' expr)* ','?)? ']'                           # ListPrimary
  | '(' expr ')'                                               # ParenPrimary
  | 'event'                                                    # EventPrimary
  | 'profile'                                                  # ProfilePrimary
  | 'now'                                                      # NowPrimary
  | 'count' '(' IDENT 'within' DURATION ('where' expr)? ')'    # CountPrimary
  | 'sum' '(' IDENT '.' name 'within' DURATION ('where' expr)? ')' # SumPrimary
  | 'time_since' '(' IDENT ')'                                 # TimeSincePrimary
  | 'has' '(' expr ')'                                         # HasPrimary
  | IDENT '(' (expr (',' expr)*)? ')'                          # CallPrimary
  | IDENT                                                      # NamePrimary
  ;

literal
  : INT | FLOAT | PERCENT | STRING | DURATION | CLOCK | 'true' | 'false'
  ;

// A field or parameter name: any identifier, and also keywords, so that realistic
// property names such as `title`, `channel` or `count` can be declared and read.
name
  : IDENT
  | 'event' | 'profile' | 'channel' | 'segment' | 'const' | 'journey'
  | 'title' | 'owner' | 'priority' | 'approvals' | 'limit' | 'on' | 'when'
  | 'eligible' | 'reenter' | 'never' | 'always' | 'after' | 'exit' | 'wait'
  | 'until' | 'within' | 'else' | 'if' | 'split' | 'control' | 'send' | 'or'
  | 'and' | 'not' | 'in' | 'starts_with' | 'ends_with' | 'contains' | 'true'
  | 'false' | 'consent' | 'quiet' | 'local' | 'drop' | 'cap' | 'per'
  | 'approval' | 'now' | 'where' | 'count' | 'sum' | 'time_since' | 'has'
  | 'goal' | 'deadline'
  ;

// ---- Lexer ----------------------------------------------------------------------
// Order matters for equal-length matches; longest match wins otherwise, so `10m` is a
// DURATION, `15%` a PERCENT and `21:00` a CLOCK.
DURATION : (DIGITS [wdhms])+ ;
PERCENT  : DIGITS ('.' DIGITS)? '%' ;
CLOCK    : [0-9] [0-9]? ':' [0-9] [0-9] ;
FLOAT    : DIGITS '.' DIGITS ([eE] [+-]? DIGITS)? | DIGITS [eE] [+-]? DIGITS ;
INT      : DIGITS ;
STRING   : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '"' ;
IDENT    : [A-Za-z_] [A-Za-z0-9_]* ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS            : [ \t\r\n\f]+ -> channel(HIDDEN) ;

// Anything else is one bad character; the parse layer reports it with its position.
BAD_CHAR : . ;

fragment DIGITS : [0-9]+ ;

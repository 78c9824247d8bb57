"""XBRL documents the tests build."""

from __future__ import annotations

# A fragment shaped like a real inline XBRL 10-Q (Workiva / Toppan Merrill style).
INLINE_10Q = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL"
 xmlns:ixt="http://www.xbrl.org/inlineXBRL/transformation/2020-02-12"
 xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:iso4217="http://www.xbrl.org/2003/iso4217"
 xmlns:us-gaap="http://fasb.org/us-gaap/2024" xmlns:dei="http://xbrl.sec.gov/dei/2024"
 xmlns:xbrldi="http://xbrl.org/2006/xbrldi">
<head><title>10-Q</title></head>
<body>
<div style="display:none"><ix:header><ix:hidden>
<ix:nonNumeric name="dei:DocumentFiscalYearFocus" contextRef="c-1">2024</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentFiscalPeriodFocus" contextRef="c-1">Q1</ix:nonNumeric>
</ix:hidden><ix:resources>
<xbrli:context id="c-1"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier></xbrli:entity>
<xbrli:period><xbrli:startDate>2024-01-01</xbrli:startDate><xbrli:endDate>2024-03-31</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:context id="c-2"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier></xbrli:entity>
<xbrli:period><xbrli:startDate>2023-01-01</xbrli:startDate><xbrli:endDate>2023-03-31</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:context id="c-3"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier>
<xbrli:segment><xbrldi:explicitMember dimension="srt:ProductOrServiceAxis">x:ServiceMember</xbrldi:explicitMember></xbrli:segment></xbrli:entity>
<xbrli:period><xbrli:startDate>2024-01-01</xbrli:startDate><xbrli:endDate>2024-03-31</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:context id="c-4"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier></xbrli:entity>
<xbrli:period><xbrli:instant>2024-03-31</xbrli:instant></xbrli:period></xbrli:context>
<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>
<xbrli:unit id="usdPerShare"><xbrli:divide><xbrli:unitNumerator><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unitNumerator>
<xbrli:unitDenominator><xbrli:measure>xbrli:shares</xbrli:measure></xbrli:unitDenominator></xbrli:divide></xbrli:unit>
</ix:resources></ix:header></div>
<p>FORM <ix:nonNumeric name="dei:DocumentType" contextRef="c-1">10-Q</ix:nonNumeric> for the quarterly period ended
<ix:nonNumeric name="dei:DocumentPeriodEndDate" contextRef="c-1" format="ixt:date-monthname-day-year-en">March 31, 2024</ix:nonNumeric></p>
<table>
<tr><td>Total revenues</td><td>$</td><td><ix:nonFraction unitRef="usd" contextRef="c-1" decimals="-6" name="us-gaap:Revenues" format="ixt:num-dot-decimal" scale="6" id="f-1">21,301</ix:nonFraction></td>
<td><ix:nonFraction unitRef="usd" contextRef="c-2" decimals="-6" name="us-gaap:Revenues" format="ixt:num-dot-decimal" scale="6">23,329</ix:nonFraction></td></tr>
<tr><td>Services</td><td><ix:nonFraction unitRef="usd" contextRef="c-3" decimals="-6" name="us-gaap:Revenues" format="ixt:num-dot-decimal" scale="6">2,288</ix:nonFraction></td></tr>
<tr><td>Net loss</td><td>(<ix:nonFraction unitRef="usd" contextRef="c-1" decimals="-6" name="us-gaap:NetIncomeLoss" format="ixt:num-dot-decimal" scale="6" sign="-">1,129</ix:nonFraction>)</td>
<td><ix:nonFraction unitRef="usd" contextRef="c-2" decimals="-6" name="us-gaap:NetIncomeLoss" format="ixt:fixed-zero" scale="6">—</ix:nonFraction></td></tr>
<tr><td>EPS</td><td>(<ix:nonFraction unitRef="usdPerShare" contextRef="c-1" decimals="2" name="us-gaap:EarningsPerShareBasic" format="ixt:num-dot-decimal" scale="0" sign="-">0.36</ix:nonFraction>)</td></tr>
<tr><td>Cash</td><td><ix:nonFraction unitRef="usd" contextRef="c-4" decimals="-3" name="us-gaap:CashAndCashEquivalentsAtCarryingValue" format="ixt-sec:numwordsen" scale="3">12,345.6</ix:nonFraction></td></tr>
</table></body></html>
"""  # noqa: E501

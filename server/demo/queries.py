"""The Gremlin queries ``seer demo`` runs through gremlinpython, each printed with its answer and
a few lines saying what it shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from gremlin_python.process.graph_traversal import GraphTraversalSource, __
from gremlin_python.process.traversal import Order

from server.demo.generate import GeneratedGraph

LP = "Neptune#ml.prediction"
NC = "Neptune#ml.classification"
EP = "Neptune#ml.endpoint"
SCORE = "Neptune#ml.score"
INDUCTIVE = "Neptune#ml.inductiveInference"
DETERMINISTIC = "Neptune#ml.deterministic"


class DemoQueries:
    def __init__(
        self,
        g: GraphTraversalSource,
        lp: str,
        nc: str,
        config: Any,
        graph: GeneratedGraph | None,
        say: Callable[[str], None],
        step: Callable[[str], None],
    ) -> None:
        self.g, self.lp, self.nc, self.config, self.graph = g, lp, nc, config, graph
        self.say, self.step = say, step
        self.vlabel, self.elabel, self.tlabel = config.link
        self.clabel, self.ckey = config.classify

    def show(self, text: str, result: Any) -> None:
        self.say(f"  gremlin> {text}")
        self.say(f"  ==> {result}")

    def run_all(self) -> None:
        hub, small = self.pick_airports()
        self.predicted_routes(hub, 5)
        self.predicted_routes(small, 5)
        self.classify_unlabelled()
        self.two_models_one_query(hub)
        if self.vlabel == self.clabel:
            self.new_vertex()

    def pick_airports(self) -> tuple[str, str]:
        """The busiest airport (AUS on air-routes) and one with few routes."""
        g = self.g
        counts = (
            g.V()
            .has_label(self.vlabel)
            .project("code", "n")
            .by("code")
            .by(__.out_e(self.elabel).count())
            .order()
            .by("n", Order.desc)
            .to_list()
        )
        codes = [c["code"] for c in counts]
        hub = "AUS" if "AUS" in codes else codes[0]
        small = next((c["code"] for c in counts[len(counts) // 2 :] if c["n"] >= 2), codes[-1])
        return hub, small

    def predicted_routes(self, code: str, k: int) -> None:
        g = self.g
        self.step(f"Link prediction: the {k} routes the model expects {code} to fly next")
        text = (
            f'g.with_("{EP}", "{self.lp}").with_("Neptune#ml.limit", {k}).V().has("{self.vlabel}", "code", "{code}")'
            f'.out("{self.elabel}").with_("{LP}").has_label("{self.tlabel}").values("code")'
        )
        predicted = (
            g.with_(EP, self.lp)
            .with_("Neptune#ml.limit", k)
            .V()
            .has(self.vlabel, "code", code)
            .out(self.elabel)
            .with_(LP)
            .has_label(self.tlabel)
            .values("code")
            .to_list()
        )
        self.show(text, predicted)
        existing = set(g.V().has(self.vlabel, "code", code).out(self.elabel).values("code").to_list())
        new = [c for c in predicted if c not in existing]
        self.say(
            f"  {code} already has {len(existing)} routes; {len(new)} of the {len(predicted)} predictions are "
            "routes it does not have yet (the model scores every airport and keeps the best)."
        )
        if self.graph is not None and predicted:
            region = self._true_region(code)
            same = sum(self._true_region(c) == region for c in predicted)
            self.say(
                f"  {same} of them are in {code}'s own region ({region}): the model found the communities "
                "the routes were drawn from."
            )

    def _true_region(self, code: str) -> str:
        graph = self.graph
        assert graph is not None
        return graph.region_names[graph.region[graph.codes.index(code)]]

    def classify_unlabelled(self) -> None:
        g = self.g
        self.step(f"Node classification: {self.ckey} of {self.clabel} vertices that have none")
        text = (
            f'g.with_("{EP}", "{self.nc}").V().has_label("{self.clabel}").has_not("{self.ckey}").limit(5)'
            f'.project("code", "{self.ckey}").by("code").by(__.properties("{self.ckey}").with_("{NC}").value())'
        )
        rows = (
            g.with_(EP, self.nc)
            .V()
            .has_label(self.clabel)
            .has_not(self.ckey)
            .limit(5)
            .project("code", self.ckey)
            .by("code")
            .by(__.properties(self.ckey).with_(NC).value())
            .to_list()
        )
        self.show(text, rows)
        if rows:
            code = rows[0]["code"]
            scored = (
                g.with_(EP, self.nc)
                .with_("Neptune#ml.limit", 2)
                .V()
                .has(self.clabel, "code", code)
                .properties(self.ckey, SCORE)
                .with_(NC)
                .to_list()
            )
            self.show(
                f'g.with_("{EP}", "{self.nc}").with_("Neptune#ml.limit", 2).V().has("code", "{code}")'
                f'.properties("{self.ckey}", "{SCORE}").with_("{NC}")',
                [
                    f"vp[{p.key}->{p.value if isinstance(p.value, str) else round(p.value, 3)}]"
                    for p in scored
                ],
            )
            self.say("  The two likeliest classes, each followed by the model's confidence.")
        if self.graph is None:
            return
        everything = (
            g.with_(EP, self.nc)
            .V()
            .has_label(self.clabel)
            .has_not(self.ckey)
            .project("code", "p")
            .by("code")
            .by(__.properties(self.ckey).with_(NC).value())
            .to_list()
        )
        right = sum(self._true_region(r["code"]) == r["p"] for r in everything)
        chance = max(Counter(self.graph.region).values()) / len(self.graph.ids)
        self.say(
            f"  Over all {len(everything)} airports without a region, the prediction matches the hidden truth "
            f"for {right} ({right / max(len(everything), 1):.0%}); always guessing the largest region would "
            f"score {chance:.0%}."
        )

    def two_models_one_query(self, code: str) -> None:
        g = self.g
        self.step(
            "Two models in one traversal (beyond Neptune): predicted routes, then their predicted regions"
        )
        text = (
            f'g.with_("{EP}", "{self.lp}").with_("Neptune#ml.limit", 3).V().has("code", "{code}")'
            f'.out("{self.elabel}").with_("{LP}").has_label("{self.tlabel}")'
            f'.project("to", "{self.ckey}").by("code").by(__.properties("{self.ckey}")'
            f'.with_("{NC}").with_("{EP}", "{self.nc}").value())'
        )
        rows = (
            g.with_(EP, self.lp)
            .with_("Neptune#ml.limit", 3)
            .V()
            .has(self.vlabel, "code", code)
            .out(self.elabel)
            .with_(LP)
            .has_label(self.tlabel)
            .project("to", self.ckey)
            .by("code")
            .by(__.properties(self.ckey).with_(NC).with_(EP, self.nc).value())
            .to_list()
        )
        self.show(text, rows)
        self.say("  Each ML step names its own endpoint; each makes one batched call for all its traversers.")

    def new_vertex(self) -> None:
        """A vertex created after training: inductive inference follows its live edges."""
        g = self.g
        self.step("Inductive inference: an airport created after training")
        regions = g.V().has_label(self.clabel).has(self.ckey).group().by(self.ckey).by(__.count()).next()
        if len(regions) < 2:
            return
        first, second = sorted(regions, key=regions.get, reverse=True)[:2]
        g.add_v(self.clabel).property("code", "NEW").property("runways", 2).iterate()
        vertex = g.V().has(self.clabel, "code", "NEW").next()

        def connect(region: str) -> None:
            g.V(vertex).out_e(self.elabel).drop().iterate()
            g.V(vertex).in_e(self.elabel).drop().iterate()
            for other in g.V().has(self.clabel, self.ckey, region).limit(8).to_list():
                g.V(vertex).add_e(self.elabel).to(other).iterate()
                g.V(other).add_e(self.elabel).to(vertex).iterate()

        query = (
            f'g.with_("{EP}", "{self.nc}").V(new).properties("{self.ckey}", "{SCORE}").with_("{NC}")'
            f'.with_("{INDUCTIVE}").with_("{DETERMINISTIC}")'
        )
        for region in (first, second):
            connect(region)
            result = (
                g.with_(EP, self.nc)
                .V(vertex)
                .properties(self.ckey, SCORE)
                .with_(NC)
                .with_(INDUCTIVE)
                .with_(DETERMINISTIC)
                .value()
                .to_list()
            )
            self.say(f"  (NEW now has routes to 8 airports in {region})")
            self.show(query + ".value()", result)
        self.say(
            "  The model never saw NEW; its region follows its routes, computed from the live "
            "neighbourhood at query time. Without inductiveInference it gets no answer (transductive)."
        )

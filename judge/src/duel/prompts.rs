//! The questions each stage asks, in sn17's own words. Every rule, scale, content order and output field of 404's
//! judge-service (`judges/multi_stage.py` at `0f26836`, paraphrased in competition.md §7.2) is kept; agreement
//! with 404's verdicts is to be measured on real bundles, not assumed from the wording.

/// System message of Stage 1, 2A, 2B and 3.
pub const EVALUATOR_SYSTEM: &str = "You are an expert evaluator of 3D models.\n\
Judge rendered views for visual quality and for how closely they follow the prompt, with care and precision.\n\
Reply with valid JSON only.";

/// Stage 1 and Stage 3: penalties for two single views against the reference image.
pub fn prompt_match(angle_desc: &str) -> String {
    format!(
        "Both 3D models below are rendered from {angle_desc}.\n\
The reference image is the object they should reproduce.\n\n\
Which model reproduces the reference more faithfully in 3D?\n\n\
Give each model a penalty from 0 to 10:\n\
0 = matches the reference perfectly\n\
3 = minor issues (small shape differences, small details missing)\n\
5 = moderate issues (wrong style, important details missing)\n\
7 = major issues (a related but different category, e.g. a stool instead of a chair)\n\
10 = a completely different object\n\n\
Answer as: {{\"penalty_1\": <0-10>, \"penalty_2\": <0-10>, \"issues\": \"<short note>\"}}"
    )
}

/// Stage 1 view descriptions.
pub fn front_angle_desc(view: crate::bundle::View) -> &'static str {
    use crate::bundle::View;
    match view {
        View::FrontLeft => "slightly left of the front",
        View::FrontRight => "slightly right of the front",
        View::FrontBelow => "the front, from slightly below",
        View::FrontAbove => "the front, from slightly above",
        View::Right => "the right side",
        View::Back => "the back",
        View::Left => "the left side",
        View::TopDown => "directly above (top-down)",
    }
}

/// Stage 2A: each model's single best view against the image prompt.
pub const BEST_VIEW: &str = "Does each 3D model match the image prompt?\n\n\
Each model is shown from the one angle that matches the prompt best.\n\n\
Give each model a penalty from 0 to 10:\n\
0 = a perfect match\n\
3 = minor issues (small shape differences, small details missing)\n\
5 = moderate issues (wrong style, important details missing)\n\
7 = major issues (a related but different category, e.g. a stool instead of a chair)\n\
10 = a completely different object\n\n\
Answer as: {\"penalty_1\": <0-10>, \"penalty_2\": <0-10>, \"issues\": \"<short note>\"}";

/// Stage 2B: rendering quality of the two 4-view grids against the image prompt.
pub const ARTIFACT_COMPARE: &str = "Score how well each 3D model is rendered, judged against the image prompt.\n\n\
Look at four aspects:\n\n\
1. BOUNDING BOX: is there a box-like enclosure, room walls or a floor plane that does not belong to the object?\n\
   A base or platform that fits the prompt's context (for example ground under a standing character) is not a\n\
   flaw. An unrelated enclosure is a major flaw (penalty 5-7).\n\n\
2. COLOUR AND MATERIAL: are the prompt's distinctive colours and materials reproduced? A key part with a missing\n\
   or wrong colour (say, a red part rendered gray) is a clear flaw (penalty 3-5).\n\n\
3. SURFACE QUALITY: are there obvious texture artifacts (heavy noise, big speckles, visible seams) that make one\n\
   model clearly worse? Small differences in sharpness are normal and must not change the penalty; penalise\n\
   only a clearly worse surface (2-3).\n\n\
4. GEOMETRIC DETAIL: is fine structure missing, such as handles, edges, thin parts or ornaments (penalty 2-4)?\n\n\
Give each model a penalty from 0 to 10:\n\
0 = excellent, faithful to the prompt in every aspect\n\
3 = minor issues in one aspect\n\
5 = a clear flaw in one or more aspects\n\
7 = several serious flaws\n\
10 = completely wrong\n\n\
Answer as: {\"penalty_1\": <0-10>, \"penalty_2\": <0-10>, \"issues\": \"<short comparison>\"}";

/// Stage 2C decompose: system message.
pub const DECOMPOSE_SYSTEM: &str = "You analyse images for 3D model evaluation.\n\n\
From a reference image, build a structured checklist of concrete features that can be verified and that a\n\
matching 3D model has to show.\n\n\
Do not write out your reasoning.\n\
Reply with valid JSON only.";

/// Stage 2C decompose: instruction.
pub const DECOMPOSE: &str = "Study this reference image and write a checklist of concrete features a matching\n\
3D model has to have.\n\n\
Rules:\n\
- Name the main object first (for example \"wooden chair\" or \"red sports car\")\n\
- List between 4 and 7 specific features that can be verified\n\
- Prefer features that can be counted: \"4 legs\", \"2 handles\", \"3 wheels\"\n\
- Include shape features: \"round body\", \"tapered legs\", \"curved back\"\n\
- Include distinguishing details: \"open top\", \"visible wheels\", \"pointed ears\"\n\
- Mention material or colour ONLY when it is distinctive: \"metallic surface\", \"bright red\"\n\
- Each feature must be checkable in multi-view renders of a 3D model\n\
- Do NOT list background, lighting or rendering-style features\n\
- Do NOT list vague features such as \"good quality\" or \"realistic\"\n\n\
Answer as JSON:\n\
{\"main_object\": \"<2-4 word label>\", \"features\": [{\"description\": \"<short concrete feature>\", \
\"category\": \"count\" | \"shape\" | \"presence\" | \"material_color\"}]}";

/// Stage 2C verify: system message.
pub const VERIFY_SYSTEM: &str = "You check whether a 3D model matches a checklist taken from a reference image.\n\n\
The image shows one 3D model from four different angles (a 2x2 grid). Use all four views for every item.\n\n\
Be strict:\n\
- \"yes\"     = clearly present and correct across the views\n\
- \"partial\" = present but wrong in some way (count, shape or colour)\n\
- \"no\"      = missing or completely wrong\n\n\
Reply with valid JSON only.";

/// One checklist item as the verify prompt lists it.
pub struct ChecklistLine<'a> {
    pub category: &'a str,
    pub description: &'a str,
}

/// Stage 2C verify: instruction listing the checklist.
pub fn verify(main_object: &str, features: &[ChecklistLine<'_>]) -> String {
    let mut list = String::new();
    for (i, f) in features.iter().enumerate() {
        list.push_str(&format!(
            "  {}. [{}] {}\n",
            i + 1,
            f.category,
            f.description
        ));
    }
    let hint: Vec<String> = features
        .iter()
        .map(|f| {
            format!(
                "{{\"feature\": {}, \"match\": \"yes\"|\"partial\"|\"no\", \"note\": \"<short>\"}}",
                serde_json::Value::from(f.description)
            )
        })
        .collect();
    format!(
        "Here are the reference image and a checklist.\n\n\
Main object: {main_object}\n\
Features to check:\n{list}\n\
Look at the four views of this 3D model and check every feature.\n\n\
Rules:\n\
- Judge each feature on its own, using all four views\n\
- \"yes\" = clearly present and correct\n\
- \"partial\" = present but wrong in some way\n\
- \"no\" = missing or completely wrong\n\
- When unsure, answer \"partial\", not \"yes\"\n\
- note: 3 to 8 words explaining the verdict\n\n\
Answer as JSON:\n\
{{\"checks\": [{}], \"main_object_correct\": true | false}}",
        hint.join(", ")
    )
}

/// Stage 4: system message.
pub const SIDE_GUARD_SYSTEM: &str = "You check 3D renders for visual consistency, precisely.\n\
Keep answers short. Do not write out your reasoning and do not use <think> tags.\n\
Reply with valid JSON only.";

/// Stage 4: is the side view a real 3D continuation of the front view?
pub fn side_guard(angle_desc: &str) -> String {
    format!(
        "The first image is a reference view of a generated 3D model.\n\
The second image shows the SAME 3D model seen from {angle_desc}.\n\n\
Both are renders of one 3D scene from different camera angles, so outlines, visible faces and the amount of detail\n\
will differ naturally. Your only task is to catch severe gaming, where the model is essentially absent or\n\
replaced when seen from this angle.\n\n\
Answer GARBAGE ONLY when at least one of these is clearly true:\n\
  (a) the view from {angle_desc} shows a flat, paper-thin or empty silhouette that cannot belong to a solid 3D\n\
      version of what the front view shows (the back or side was never modelled), OR\n\
  (b) the view from {angle_desc} is a mostly empty frame: the object is missing, cut away, or replaced by\n\
      unrelated geometry (large boxes, walls, enclosures, slabs, scaffolding, debris that is clearly not part\n\
      of the object), OR\n\
  (c) the view from {angle_desc} shows a completely different object that has nothing to do with the front view.\n\n\
Answer OK in every other case. In particular these are NOT garbage:\n\
  - An outline that changes because the camera turned (a tree trunk seen end-on has no branches; a flat panel\n\
    seen edge-on looks thin; a long object seen from its end looks short).\n\
  - Interior detail, contents or geometry that the front hides (rooms, vehicles, open furniture).\n\
  - Less detail, simpler texturing or fewer features than the front (hidden faces often get less detail).\n\
  - Scenes of several deliberately separate objects (a chess set, a table with chairs, a block of buildings).\n\
  - Stylisation, mediocre quality, few polygons or odd proportions that appear in BOTH views.\n\n\
Answer as JSON: {{\"verdict\": \"ok\" | \"garbage\", \"reason\": \"<one short sentence naming the condition \
(a/b/c) that made it GARBAGE, or what makes the view from {angle_desc} consistent with the front>\"}}"
    )
}

/// Explain: system message.
pub const EXPLAIN_SYSTEM: &str = "You are an expert evaluator of 3D models.\n\
Compare two 3D models with a reference image and sum up their main quality problems briefly. Do not write out\n\
your reasoning.\n\
Reply with valid JSON only.";

/// Explain: instruction.
pub const EXPLAIN: &str = "You see a reference image and two 3D models, each shown as a 2x2 grid of four views.\n\n\
Name the most important rendering and prompt-match problems of each model. Concentrate on what is clearly wrong\n\
compared with the reference: missing features, wrong colours, distorted geometry, surface artifacts. Ignore small\n\
differences.\n\n\
Answer as JSON: {\"issues\": \"<one or two short sentences comparing the problems of the two models>\"}";

/// Content labels, in the order 404 sends the parts.
pub mod labels {
    pub const REFERENCE_TARGET: &str = "Reference image (target object):";
    pub const MODEL_1: &str = "3D model 1:";
    pub const MODEL_2: &str = "3D model 2:";
    pub const IMAGE_PROMPT: &str = "Image prompt to generate 3D model:";
    pub const FIRST_BEST_VIEW: &str = "First 3D model (single best prompt-matching view):";
    pub const SECOND_BEST_VIEW: &str = "Second 3D model (single best prompt-matching view):";
    pub const FIRST_GRID: &str = "First 3D model (4 different views):";
    pub const SECOND_GRID: &str = "Second 3D model (4 different views):";
    pub const REFERENCE: &str = "Reference image:";
    pub const MODEL_GRID: &str = "3D model (4 views, 2x2 grid):";
    pub const FRONT_VIEW: &str = "Front view of the 3D model:";
    pub const MODEL_A_GRID: &str = "Model A (4 views):";
    pub const MODEL_B_GRID: &str = "Model B (4 views):";

    /// Stage 4's label for the side view.
    pub fn same_model_from(angle_desc: &str) -> String {
        format!("Same 3D model viewed from {angle_desc}:")
    }
}

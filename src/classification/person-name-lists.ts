/**
 * Common given names and surnames, lower case without diacritics, used as supporting evidence that
 * capitalised words are a person's name. Deliberately small and international (US census and SSA top
 * names plus frequent names from Latin America, Europe, South and East Asia, Africa): a name missing
 * from these lists still counts as name-shaped, it is just weaker evidence.
 */
export const GIVEN_NAMES: ReadonlySet<string> = new Set(
  `james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan
  joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony margaret
  mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin
  amanda brian dorothy george melissa timothy deborah ronald stephanie edward rebecca jason sharon jeffrey
  laura ryan cynthia jacob kathleen gary amy nicholas angela eric shirley jonathan anna stephen brenda
  larry pamela justin emma scott nicole brandon helen benjamin samantha samuel katherine gregory christine
  alexander debra frank rachel patrick carolyn raymond janet jack catherine dennis maria jerry heather
  tyler diane aaron ruth jose julie adam olivia nathan joyce henry virginia douglas victoria zachary
  kelly peter lauren kyle christina ethan joan walter evelyn noah judith jeremy megan christian andrea
  keith cheryl roger hannah terry jacqueline gerald martha harold gloria sean teresa austin ann carl
  sara arthur madison lawrence frances dylan kathryn jesse janice jordan jean bryan abigail billy alice
  bruce judy gabriel sophia joe grace logan denise albert amber willie doris alan marilyn juan danielle
  wayne beverly elijah isabella randy theresa roy diana vincent natalie ralph brittany eugene charlotte
  russell marie bobby kayla mason alexis philip lori louis liam ava mia harper luna camila sofia
  valentina lucia carlos luis miguel jorge pedro diego javier alejandro fernando ricardo eduardo
  francisco antonio manuel rafael andres pablo sergio gabriela daniela mariana fernanda paula carmen
  rosa ana lucas mateo santiago matias leonardo joao ana beatriz julia larissa thiago rodrigo bruno
  felipe pierre jean louis camille chloe manon lea hugo jules antoine nicolas julien sebastien
  mathieu isabelle nathalie sylvie celine lukas leon finn jonas felix maximilian paul elias ben noah
  hannah lena leonie johanna katharina anja sabine petra ursula klaus jurgen stefan andreas markus
  thomas wolfgang giuseppe giovanni marco luca matteo alessandro francesca giulia chiara federica
  sofia elena olga irina natalia tatiana svetlana anastasia ivan dmitri sergei alexei vladimir igor
  andrei mikhail piotr tomasz krzysztof agnieszka katarzyna magdalena jan jakub lars erik anders nils
  sven ingrid astrid freya sanne daan sem lotte emma aisha fatima amina mohammed muhammad ahmed ali
  omar hassan hussein ibrahim yusuf mustafa khalid layla zainab mariam priya ananya aditi pooja neha
  kavya divya deepika rahul arjun rohan vikram amit raj sanjay ravi anil suresh ramesh vijay krishna
  aarav vivaan ishaan wei li ming jing hui yan xin lei jun hao yu chen mei ling hiroshi takashi kenji
  yuki haruto sota yui hina sakura aoi ren kenta minjun seojun jiwoo seoyeon minseo jiho hyun
  kwame kofi ama abena chinedu ngozi oluwaseun adebayo chiamaka emeka thabo sipho zanele nomvula
  tunde folake amara kemi jane eva ella lily zoe leo max oscar alfie arthur rose ivy nora iris`.split(/\s+/).filter((n) => n.length > 0),
);

export const SURNAMES: ReadonlySet<string> = new Set(
  `smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
  wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark
  ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams
  nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker
  cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper
  peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james
  bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez
  powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher vasquez
  simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace moreno west cole
  hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall owens
  harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker
  guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon munoz
  hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren mills meyer rice
  schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley
  spencer hawkins arnold pierce vazquez hansen peters santos hart bradley knight elliott cunningham
  duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry perkins hoffman
  johnston matthews pena richards contreras willis carpenter lawrence sandoval mueller muller schneider
  fischer weber becker schulz hoffmann koch richter klein wolf schroder neumann schwarz zimmermann
  braun kruger hartmann lange werner krause lehmann kohler martin bernard dubois thomas robert richard
  petit durand leroy moreau simon laurent lefebvre michel fournier girard bonnet dupont lambert
  fontaine rousseau vincent blanc guerin rossi russo ferrari esposito bianchi romano colombo ricci
  marino greco bruno gallo conti costa giordano mancini rizzo lombardi moretti oliveira souza lima
  pereira ferreira alves ribeiro carvalho gomes martins rocha almeida nascimento araujo barbosa
  cardoso teixeira correia dias mendes ivanov smirnov kuznetsov popov sokolov lebedev kozlov novikov
  morozov petrov volkov nowak kowalski wisniewski wojcik kowalczyk kaminski lewandowski zielinski
  jansen devries vandenberg bakker visser smit meijer mulder bos vos dekker andersson johansson
  karlsson nilsson eriksson larsson olsen nielsen hansen pedersen jensen kumar sharma singh gupta
  shah mehta iyer reddy rao nair joshi desai verma agarwal chopra malhotra kapoor banerjee das
  wang li zhang liu yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo gao tanaka suzuki sato
  takahashi watanabe ito yamamoto nakamura kobayashi kato yoshida yamada sasaki yamaguchi matsumoto
  inoue kimura hayashi shimizu park choi jung kang cho yoon jang lim han shin oh seo kwon hwang
  ahn song okafor okonkwo adeyemi mensah owusu boateng nkosi dlamini ndlovu mokoena abubakar
  mohammed ahmed hassan ali khan hussain rahman abdullah ibrahim yilmaz kaya demir sahin celik
  cohen levy friedman katz murphy obrien kelly byrne ryan walsh doyle mccarthy gallagher`
    .split(/\s+/)
    .filter((n) => n.length > 0),
);

/** Words that appear in organisation, place and product names but not in people's names. */
export const NON_PERSON_WORDS: ReadonlySet<string> = new Set(
  `inc llc ltd corp corporation co company group holdings labs laboratories systems partners industries
  enterprises technologies technology tech solutions services bank capital foods motors brothers gmbh ag
  sa plc associates consulting trust foundation university college school hospital clinic pharma
  logistics media studios networks software controls international global market store shop cafe
  restaurant hotel airlines airport street st avenue ave road rd boulevard blvd drive city
  county state north south east new center centre department team project product products
  edition pro plus mini lite series model version the and of for with`
    .split(/\s+/)
    .filter((n) => n.length > 0),
);
